"""finsent: the command line and the demo, the composition root above model, stream and monitor."""
