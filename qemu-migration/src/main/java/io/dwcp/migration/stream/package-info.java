/**
 * QEMU's migration stream, read without being trusted: {@link io.dwcp.migration.stream.MigrationStreamTokenizer}
 * cuts the bytes of one QEMU connection into {@link io.dwcp.migration.stream.Token}s (sections, RAM pages,
 * multifd packets, opaque bytes it does not understand), holding back only the bytes of a token not yet
 * complete;
 * {@link io.dwcp.migration.stream.MigrationStreamWriter} writes tokens back into the exact bytes they
 * came from; a stream that breaks the grammar is a {@link io.dwcp.migration.stream.MalformedStreamException},
 * and what the grammar does not cover passes as opaque bytes.
 *
 * <h2>Threads</h2>
 * A tokenizer or writer belongs to one stream and is used by one thread at a time (in dwcpd, the
 * session's event loop); none is thread-safe. Tokens, options and statistics snapshots are immutable.
 */
package io.dwcp.migration.stream;
