DROP TABLE quarantines;
