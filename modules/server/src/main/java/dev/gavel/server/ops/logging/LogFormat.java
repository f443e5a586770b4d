package dev.gavel.server.ops.logging;

/** How the node writes its log lines to standard output ({@code LOG_FORMAT}). */
public enum LogFormat {
    /** One line per event for people: time, level, logger, node, message (a stack trace follows on its own lines). */
    TEXT,
    /** One JSON object per line for a log pipeline; a stack trace is one string field. */
    JSON
}
