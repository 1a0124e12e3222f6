"""Alert judgement: rules, detector, series reads, evaluator, backtest, leader lock."""
