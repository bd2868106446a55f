-- Version 1: the key-value table every keyspace (tree) of the store lives in. A value is the
-- store's envelope (format version, CRC32, postcard) as it is on sled; keys sort bytewise, as
-- sled's do, so scans read the same order.
CREATE TABLE scenarist_kv (
    tree smallint NOT NULL,
    key bytea NOT NULL,
    value bytea NOT NULL,
    PRIMARY KEY (tree, key)
);
