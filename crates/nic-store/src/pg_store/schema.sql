-- Version 1 of nic-hub's PostgreSQL schema. Applied once, in one transaction, by
-- PgStore::open when nic_schema says the database is older; never edited once released
-- (a later version is a new file with its own number).

-- A document: its metadata as JSON (the same record sled keeps), the columns `list`
-- filters on, and the sizes the compaction policy reads.
CREATE TABLE nic_documents (
    id bytea PRIMARY KEY,
    network text NOT NULL,
    site text,
    kind text NOT NULL,
    archived boolean NOT NULL,
    meta text NOT NULL,
    snapshot_bytes bigint NOT NULL DEFAULT 0,
    incremental_bytes bigint NOT NULL DEFAULT 0,
    incremental_chunks bigint NOT NULL DEFAULT 0
);
CREATE INDEX nic_documents_network ON nic_documents (network, kind);

-- Chunks in load order: at most one snapshot, then the incremental chunks.
CREATE SEQUENCE nic_chunk_seq;
CREATE TABLE nic_chunks (
    doc bytea NOT NULL REFERENCES nic_documents (id),
    seq bigint NOT NULL,
    snapshot boolean NOT NULL,
    bytes bytea NOT NULL,
    PRIMARY KEY (doc, seq)
);

-- Sync states: a cache, so no reference to the document.
CREATE TABLE nic_sync_states (
    peer text NOT NULL,
    doc bytea NOT NULL,
    state bytea NOT NULL,
    PRIMARY KEY (peer, doc)
);

-- One row that a flush updates with synchronous commit: its commit makes every earlier
-- commit durable too (the write-ahead log is flushed in order).
CREATE TABLE nic_flush (id int PRIMARY KEY, n bigint NOT NULL);
INSERT INTO nic_flush VALUES (1, 0);

-- The directory (nic_store::Directory): records as JSON under their ids; ids compare as
-- bytes ("C" collation), as sled orders them.
CREATE TABLE nic_networks (id text COLLATE "C" PRIMARY KEY, record text NOT NULL);
CREATE TABLE nic_sites (
    network text COLLATE "C" NOT NULL,
    id text COLLATE "C" NOT NULL,
    record text NOT NULL,
    PRIMARY KEY (network, id)
);
CREATE TABLE nic_members (id text COLLATE "C" PRIMARY KEY, record text NOT NULL);
-- Tokens under the SHA-256 of their secret (never the secret), findable by public id.
CREATE TABLE nic_tokens (
    hash bytea PRIMARY KEY,
    id text COLLATE "C" NOT NULL UNIQUE,
    record text NOT NULL
);
-- Each Automerge actor id belongs to one member, on every hub: the primary key is the
-- compare-and-set.
CREATE TABLE nic_actors (actor bytea PRIMARY KEY, member text NOT NULL);
CREATE SEQUENCE nic_audit_seq;
CREATE TABLE nic_audit (seq bigint PRIMARY KEY, entry text NOT NULL);
