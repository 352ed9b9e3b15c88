package io.dwcp.hde;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/** Computes {@link PageHash}es (SHA-256, first 128 bits). One per thread: not thread-safe. */
public final class PageHasher {
    private final MessageDigest sha256;
    private final byte[] digest = new byte[32];

    public PageHasher() {
        try {
            sha256 = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }

    public PageHash hash(byte[] content, int offset) {
        sha256.update(content, offset, HdeFrame.PAGE_SIZE);
        try {
            sha256.digest(digest, 0, digest.length);
        } catch (java.security.DigestException e) {
            throw new IllegalStateException(e);
        }
        return PageHash.read(digest, 0);
    }
}
