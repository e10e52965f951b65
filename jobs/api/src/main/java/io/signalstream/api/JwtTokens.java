package io.signalstream.api;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.source.ImmutableJWKSet;
import com.nimbusds.jose.jwk.source.ImmutableSecret;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.jwk.source.JWKSourceBuilder;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.nimbusds.jwt.proc.BadJWTException;
import com.nimbusds.jwt.proc.ConfigurableJWTProcessor;
import com.nimbusds.jwt.proc.DefaultJWTClaimsVerifier;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;

import java.io.IOException;
import java.net.MalformedURLException;
import java.net.URI;
import java.nio.file.Path;
import java.text.ParseException;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.Set;

/**
 * JWT verifiers and development tokens, with Nimbus JOSE + JWT. Accepted: HS256 with a shared
 * secret, or RS256/ES256 with the keys of a JWKS (file or URL). A token must carry {@code exp}
 * (checked, with 60 s clock skew) and a {@code tenant_id} string claim.
 */
public final class JwtTokens {

    /** Shortest accepted HS256 secret, in bytes (RFC 7518 §3.2: at least the hash size). */
    public static final int MIN_SECRET_BYTES = 32;

    /** Environment variable of the HS256 secret of {@code serve} and {@code demo --serve}. */
    public static final String SECRET_ENV = "SIGNALSTREAM_API_JWT_SECRET";

    /** The claim naming the tenant. */
    public static final String TENANT_CLAIM = "tenant_id";

    private JwtTokens() {}

    /**
     * Claims a token must also carry, beyond {@code exp} and {@code tenant_id}: with an identity
     * provider shared by other applications, set both, so that its tokens for them are refused.
     *
     * @param issuer the exact {@code iss}, or null for any
     * @param audience a value {@code aud} must contain, or null for any
     */
    public record Expected(String issuer, String audience) {
        /** No issuer or audience required. */
        public static final Expected ANY = new Expected(null, null);
    }

    /**
     * A verifier of HS256 tokens.
     *
     * @param secret the shared secret, at least {@value #MIN_SECRET_BYTES} bytes
     * @throws IllegalArgumentException for a shorter secret
     */
    public static TokenVerifier hs256(byte[] secret) {
        return hs256(secret, Expected.ANY);
    }

    /**
     * A verifier of HS256 tokens that also requires {@code expected}'s issuer and audience.
     *
     * @throws IllegalArgumentException for a secret shorter than {@value #MIN_SECRET_BYTES} bytes
     */
    public static TokenVerifier hs256(byte[] secret, Expected expected) {
        checkSecret(secret);
        return verifier(
                new JWSVerificationKeySelector<>(
                        JWSAlgorithm.HS256, new ImmutableSecret<>(secret.clone())),
                expected);
    }

    /**
     * A verifier of RS256/ES256 tokens signed by a key of a JWKS file.
     *
     * @throws IllegalArgumentException when the file cannot be read or parsed
     */
    public static TokenVerifier jwks(Path file) {
        return jwks(file, Expected.ANY);
    }

    /**
     * A verifier of RS256/ES256 tokens signed by a key of a JWKS file, with {@code expected}'s
     * issuer and audience.
     *
     * @throws IllegalArgumentException when the file cannot be read or parsed
     */
    public static TokenVerifier jwks(Path file, Expected expected) {
        try {
            return jwks(new ImmutableJWKSet<>(JWKSet.load(file.toFile())), expected);
        } catch (IOException | ParseException e) {
            throw new IllegalArgumentException(
                    "cannot read the JWKS " + file + ": " + e.getMessage());
        }
    }

    /**
     * A verifier of RS256/ES256 tokens signed by a key of the JWKS at a URL (fetched when needed,
     * cached and refreshed by Nimbus).
     *
     * @throws IllegalArgumentException for a malformed URL, or plain {@code http} to another host
     *     than this one (keys fetched without TLS could be swapped on the way)
     */
    public static TokenVerifier jwks(URI url, Expected expected) {
        String host = url.getHost() == null ? "" : url.getHost();
        boolean local =
                host.equals("localhost") || host.equals("127.0.0.1") || host.equals("[::1]");
        if (!"https".equalsIgnoreCase(url.getScheme())
                && !("http".equalsIgnoreCase(url.getScheme()) && local)) {
            throw new IllegalArgumentException("the JWKS URL must be https: " + url);
        }
        try {
            return jwks(JWKSourceBuilder.create(url.toURL()).build(), expected);
        } catch (MalformedURLException | IllegalArgumentException e) {
            throw new IllegalArgumentException("invalid JWKS URL " + url + ": " + e.getMessage());
        }
    }

    private static TokenVerifier jwks(JWKSource<SecurityContext> source, Expected expected) {
        return verifier(
                new JWSVerificationKeySelector<>(
                        Set.of(JWSAlgorithm.RS256, JWSAlgorithm.ES256), source),
                expected);
    }

    private static TokenVerifier verifier(
            JWSVerificationKeySelector<SecurityContext> keys, Expected expected) {
        ConfigurableJWTProcessor<SecurityContext> processor = new DefaultJWTProcessor<>();
        processor.setJWSKeySelector(keys);
        Set<String> required = new java.util.HashSet<>(Set.of("exp", TENANT_CLAIM));
        JWTClaimsSet exact = null;
        if (expected.issuer() != null) {
            required.add("iss");
            exact = new JWTClaimsSet.Builder().issuer(expected.issuer()).build();
        }
        Set<String> audience = null;
        if (expected.audience() != null) {
            required.add("aud");
            audience = Set.of(expected.audience());
        }
        processor.setJWTClaimsSetVerifier(
                new DefaultJWTClaimsVerifier<>(audience, exact, required, null));
        return token -> {
            if (token == null || token.isBlank()) {
                throw new TokenVerifier.InvalidTokenException("no token");
            }
            JWTClaimsSet claims;
            try {
                claims = processor.process(token, null);
            } catch (BadJWTException e) {
                throw new TokenVerifier.InvalidTokenException(e.getMessage());
            } catch (ParseException e) {
                throw new TokenVerifier.InvalidTokenException("malformed token");
            } catch (Exception e) {
                throw new TokenVerifier.InvalidTokenException("invalid token: " + e.getMessage());
            }
            Object tenant = claims.getClaim(TENANT_CLAIM);
            if (!(tenant instanceof String t) || t.isBlank() || t.contains(":")) {
                throw new TokenVerifier.InvalidTokenException("tenant_id claim is not a tenant id");
            }
            return new TokenVerifier.Verified(t, claims.getExpirationTime().toInstant());
        };
    }

    /**
     * A signed HS256 token for {@code tenantId}, valid for {@code ttl} (for development and tests).
     *
     * @throws IllegalArgumentException for a secret shorter than {@value #MIN_SECRET_BYTES} bytes
     */
    public static String hs256Token(byte[] secret, String tenantId, Duration ttl) {
        checkSecret(secret);
        Instant now = Instant.now();
        JWTClaimsSet claims =
                new JWTClaimsSet.Builder()
                        .subject("dev-" + tenantId)
                        .claim(TENANT_CLAIM, tenantId)
                        .issueTime(Date.from(now))
                        .expirationTime(Date.from(now.plus(ttl)))
                        .build();
        SignedJWT jwt = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), claims);
        try {
            jwt.sign(new MACSigner(secret));
        } catch (JOSEException e) {
            throw new IllegalArgumentException("cannot sign: " + e.getMessage(), e);
        }
        return jwt.serialize();
    }

    private static void checkSecret(byte[] secret) {
        if (secret == null || secret.length < MIN_SECRET_BYTES) {
            throw new IllegalArgumentException(
                    "the JWT secret must have at least " + MIN_SECRET_BYTES + " bytes");
        }
    }
}
