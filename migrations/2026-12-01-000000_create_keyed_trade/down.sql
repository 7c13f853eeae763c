DROP TABLE keyed_trade;
