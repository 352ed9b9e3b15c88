/**
 * {@code dwcp-stream}: inspect a captured QEMU migration stream, or copy it through the tokenizer and
 * writer to prove the bytes come back exactly ({@link io.dwcp.migration.cli.StreamTool}).
 *
 * <h2>Threads</h2>
 * The command's main thread only.
 */
package io.dwcp.migration.cli;
