DROP TABLE player;
