package io.signalstream.api;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The token rules: HS256 and JWKS (RS256, ES256) signatures, {@code exp}, {@code tenant_id}. */
class JwtTokensTest {

    private static final byte[] SECRET =
            "unit-test-secret-with-at-least-32-bytes".getBytes(StandardCharsets.UTF_8);

    @Test
    void hs256TokensNameTheirTenant() throws Exception {
        TokenVerifier v = JwtTokens.hs256(SECRET);
        assertThat(v.tenantOf(JwtTokens.hs256Token(SECRET, "acme", Duration.ofMinutes(5))))
                .isEqualTo("acme");
    }

    @Test
    void refusesExpiredForgedMalformedAndMissingTokens() {
        TokenVerifier v = JwtTokens.hs256(SECRET);
        byte[] other = "another-secret-with-at-least-32-bytes!".getBytes(StandardCharsets.UTF_8);
        for (String bad :
                new String[] {
                    JwtTokens.hs256Token(SECRET, "acme", Duration.ofMinutes(-5)),
                    JwtTokens.hs256Token(other, "acme", Duration.ofMinutes(5)),
                    "not.a.jwt",
                    "",
                    null
                }) {
            assertThatThrownBy(() -> v.tenantOf(bad))
                    .isInstanceOf(TokenVerifier.InvalidTokenException.class);
        }
    }

    @Test
    void refusesShortSecrets() {
        assertThatThrownBy(() -> JwtTokens.hs256(new byte[16]))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("32 bytes");
    }

    @Test
    void jwksVerifiesRs256AndEs256AndRequiresExpAndTenant(@TempDir Path tmp) throws Exception {
        RSAKey rsa = new RSAKeyGenerator(2048).keyID("rsa-1").generate();
        ECKey ec = new ECKeyGenerator(Curve.P_256).keyID("ec-1").generate();
        Path jwks = tmp.resolve("jwks.json");
        Files.writeString(
                jwks, new JWKSet(List.of(rsa.toPublicJWK(), ec.toPublicJWK())).toString());
        TokenVerifier v = JwtTokens.jwks(jwks);

        Instant exp = Instant.now().plusSeconds(300);
        assertThat(v.tenantOf(rs256(rsa, claims("globex", exp)))).isEqualTo("globex");
        assertThat(v.tenantOf(es256(ec, claims("initech", exp)))).isEqualTo("initech");

        JWTClaimsSet noExp = new JWTClaimsSet.Builder().claim("tenant_id", "globex").build();
        assertThatThrownBy(() -> v.tenantOf(rs256(rsa, noExp)))
                .isInstanceOf(TokenVerifier.InvalidTokenException.class);
        JWTClaimsSet noTenant = new JWTClaimsSet.Builder().expirationTime(Date.from(exp)).build();
        assertThatThrownBy(() -> v.tenantOf(rs256(rsa, noTenant)))
                .isInstanceOf(TokenVerifier.InvalidTokenException.class);
        RSAKey stranger = new RSAKeyGenerator(2048).keyID("rsa-1").generate();
        assertThatThrownBy(() -> v.tenantOf(rs256(stranger, claims("globex", exp))))
                .isInstanceOf(TokenVerifier.InvalidTokenException.class);
        // An HS256 token is not accepted where keys come from a JWKS.
        assertThatThrownBy(
                        () ->
                                v.tenantOf(
                                        JwtTokens.hs256Token(
                                                SECRET, "acme", Duration.ofMinutes(5))))
                .isInstanceOf(TokenVerifier.InvalidTokenException.class);
    }

    @Test
    void expectedIssuerAndAudienceAreRequired(@TempDir Path tmp) throws Exception {
        RSAKey rsa = new RSAKeyGenerator(2048).keyID("rsa-1").generate();
        Path jwks = tmp.resolve("jwks.json");
        Files.writeString(jwks, new JWKSet(List.of(rsa.toPublicJWK())).toString());
        TokenVerifier v =
                JwtTokens.jwks(jwks, new JwtTokens.Expected("https://idp.example", "signalstream"));
        Instant exp = Instant.now().plusSeconds(300);
        JWTClaimsSet good =
                new JWTClaimsSet.Builder()
                        .claim("tenant_id", "globex")
                        .issuer("https://idp.example")
                        .audience(List.of("signalstream", "other"))
                        .expirationTime(Date.from(exp))
                        .build();
        assertThat(v.tenantOf(rs256(rsa, good))).isEqualTo("globex");
        JWTClaimsSet otherIssuer =
                new JWTClaimsSet.Builder(good).issuer("https://evil.example").build();
        JWTClaimsSet otherAudience = new JWTClaimsSet.Builder(good).audience("crm").build();
        JWTClaimsSet noAudience = new JWTClaimsSet.Builder(good).audience((String) null).build();
        for (JWTClaimsSet bad : List.of(otherIssuer, otherAudience, noAudience)) {
            assertThatThrownBy(() -> v.tenantOf(rs256(rsa, bad)))
                    .isInstanceOf(TokenVerifier.InvalidTokenException.class);
        }
    }

    @Test
    void jwksUrlMustBeHttpsExceptOnThisHost() {
        assertThatThrownBy(
                        () ->
                                JwtTokens.jwks(
                                        java.net.URI.create("http://idp.example/jwks.json"),
                                        JwtTokens.Expected.ANY))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("https");
        assertThat(
                        JwtTokens.jwks(
                                java.net.URI.create("http://127.0.0.1:9/jwks.json"),
                                JwtTokens.Expected.ANY))
                .isNotNull();
    }

    @Test
    void unreadableJwksIsAClearError(@TempDir Path tmp) {
        assertThatThrownBy(() -> JwtTokens.jwks(tmp.resolve("missing.json")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("cannot read the JWKS");
    }

    private static JWTClaimsSet claims(String tenant, Instant exp) {
        return new JWTClaimsSet.Builder()
                .claim("tenant_id", tenant)
                .expirationTime(Date.from(exp))
                .build();
    }

    private static String rs256(RSAKey key, JWTClaimsSet claims) throws Exception {
        SignedJWT jwt =
                new SignedJWT(
                        new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(key.getKeyID()).build(),
                        claims);
        jwt.sign(new RSASSASigner(key));
        return jwt.serialize();
    }

    private static String es256(ECKey key, JWTClaimsSet claims) throws Exception {
        SignedJWT jwt =
                new SignedJWT(
                        new JWSHeader.Builder(JWSAlgorithm.ES256).keyID(key.getKeyID()).build(),
                        claims);
        jwt.sign(new ECDSASigner(key));
        return jwt.serialize();
    }
}
