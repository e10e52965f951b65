package io.signalstream.api;

/**
 * Verifies a bearer token (a JWT) and returns the tenant it speaks for: the {@code tenant_id}
 * claim. {@code exp} is required.
 */
@FunctionalInterface
public interface TokenVerifier {

    /**
     * @param token the compact JWT (without {@code Bearer })
     * @return the token's {@code tenant_id}
     * @throws InvalidTokenException when the token is malformed, badly signed, expired, without
     *     {@code exp} or without {@code tenant_id}
     */
    String tenantOf(String token) throws InvalidTokenException;

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
