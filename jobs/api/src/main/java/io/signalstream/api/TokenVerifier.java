package io.signalstream.api;

/**
 * Verifies a bearer token (a JWT) and returns the tenant it speaks for: the {@code tenant_id}
 * claim. {@code exp} is required.
 */
@FunctionalInterface
public interface TokenVerifier {

    /**
     * @param token the compact JWT (without {@code Bearer })
     * @return the token's {@code tenant_id} and expiry
     * @throws InvalidTokenException when the token is malformed, badly signed, expired, without
     *     {@code exp} or without {@code tenant_id}
     */
    Verified verify(String token) throws InvalidTokenException;

    /**
     * @param token the compact JWT (without {@code Bearer })
     * @return the token's {@code tenant_id}
     * @throws InvalidTokenException as {@link #verify}
     */
    default String tenantOf(String token) throws InvalidTokenException {
        return verify(token).tenantId();
    }

    /**
     * An accepted token.
     *
     * @param tenantId its {@code tenant_id}
     * @param expiresAt its {@code exp}
     */
    record Verified(String tenantId, java.time.Instant expiresAt) {}

    /** A token that cannot be accepted, with the reason (safe to show: no secret in it). */
    final class InvalidTokenException extends Exception {
        private static final long serialVersionUID = 1L;

        /**
         * @param reason why the token was refused
         */
        public InvalidTokenException(String reason) {
            super(reason);
        }
    }
}
