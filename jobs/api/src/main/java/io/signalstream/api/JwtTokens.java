package io.signalstream.api;

import java.nio.file.Path;
import java.time.Duration;

/** JWT verifiers (HS256 secret, or RS256/ES256 keys of a JWKS) and development tokens. */
public final class JwtTokens {

    /** Shortest accepted HS256 secret, in bytes (RFC 7518 §3.2: at least the hash size). */
    public static final int MIN_SECRET_BYTES = 32;

    private JwtTokens() {}

    /**
     * A verifier of HS256 tokens.
     *
     * @param secret the shared secret, at least {@value #MIN_SECRET_BYTES} bytes
     * @throws IllegalArgumentException for a shorter secret
     */
    public static TokenVerifier hs256(byte[] secret) {
        throw new UnsupportedOperationException("not yet");
    }

    /**
     * A verifier of RS256/ES256 tokens signed by a key of a JWKS file.
     *
     * @throws IllegalArgumentException when the file cannot be read or holds no usable key
     */
    public static TokenVerifier jwks(Path file) {
        throw new UnsupportedOperationException("not yet");
    }

    /**
     * A signed HS256 token for {@code tenantId}, valid for {@code ttl} (for development and tests).
     */
    public static String hs256Token(byte[] secret, String tenantId, Duration ttl) {
        throw new UnsupportedOperationException("not yet");
    }
}
