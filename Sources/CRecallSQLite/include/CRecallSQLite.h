#ifndef C_RECALL_SQLITE_H
#define C_RECALL_SQLITE_H

/// Turns SQLite's memory statistics off for the process
/// (`sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0)`, which Swift cannot call:
/// it is variadic). They take one global lock on every allocation SQLite
/// makes; sqlite.org recommends building without them. Returns SQLite's
/// result code: `SQLITE_MISUSE` once SQLite is initialized (the setting
/// then stays as it was).
int recall_sqlite_disable_memory_statistics(void);

#endif
