package io.signalstream.api;

import io.signalstream.config.AgentOptions;
import io.signalstream.config.JobOptions;
import io.signalstream.jobs.JobConfigLoader;

import org.apache.flink.configuration.Configuration;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Properties;
import java.util.concurrent.Callable;

/**
 * {@code serve}: the API service and live dashboard against an existing Kafka, until stopped.
 * Tokens: HS256 with the secret in {@code SIGNALSTREAM_API_JWT_SECRET} (at least 32 bytes), or
 * RS256/ES256 with {@code --jwks FILE|URL}. Kafka client settings (security) come from the same
 * {@code SIGNALSTREAM_KAFKA_*} variables as {@code run}.
 */
@Command(
        name = "serve",
        mixinStandardHelpOptions = true,
        description = {
            "Serve the SignalStream API (POST /v1/messages, insights, live streams) and the live"
                    + " dashboard, reading and writing the job's topics.",
            "Tokens are JWTs with a tenant_id claim: HS256 signed with"
                    + " $SIGNALSTREAM_API_JWT_SECRET, or RS256/ES256 keys from --jwks."
        })
public final class ServeCommand implements Callable<Integer> {

    @Option(
            names = "--bootstrap-servers",
            required = true,
            paramLabel = "HOSTS",
            description = "Kafka bootstrap servers, e.g. kafka:9092.")
    String bootstrapServers;

    @Option(
            names = "--port",
            defaultValue = "8080",
            paramLabel = "N",
            description = "HTTP port (default: ${DEFAULT-VALUE}).")
    int port;

    @Option(
            names = "--jwks",
            paramLabel = "FILE|URL",
            description =
                    "Verify RS256/ES256 tokens with the keys of this JWKS file or https URL"
                            + " instead of the HS256 secret.")
    String jwks;

    @Option(
            names = "--jwt-issuer",
            paramLabel = "ISS",
            description =
                    "Require this exact iss claim (recommended with a shared identity provider).")
    String issuer;

    @Option(
            names = "--jwt-audience",
            paramLabel = "AUD",
            description = "Require this value in the aud claim.")
    String audience;

    @Option(
            names = "--rate",
            defaultValue = "50",
            paramLabel = "PER_SECOND",
            description = "POST /v1/messages per second per tenant (default: ${DEFAULT-VALUE}).")
    double rate;

    @Option(
            names = "--config",
            paramLabel = "FILE",
            description =
                    "Flink-style config.yaml with the alert webhooks"
                            + " (signalstream.alerts.webhooks.<tenant>.url and .format, json|slack)"
                            + " and the job's agents (signalstream.agents.enabled: the agents"
                            + " POST /v1/feedback accepts, custom ones included).")
    Path configFile;

    @Option(
            names = "-D",
            paramLabel = "KEY=VALUE",
            description =
                    "Set an option, e.g."
                            + " -D signalstream.alerts.webhooks.acme.url=https://hooks.acme.com/x.")
    java.util.Map<String, String> overrides = new java.util.LinkedHashMap<>();

    @Option(
            names = "--webhook-attempts",
            defaultValue = "8",
            paramLabel = "N",
            description =
                    "Attempts per alert webhook delivery before it is recorded as failed"
                            + " (default: ${DEFAULT-VALUE}).")
    int webhookAttempts;

    @Override
    public Integer call() throws Exception {
        TokenVerifier tokens;
        try {
            tokens = verifier();
        } catch (IllegalArgumentException e) {
            System.err.println("error: " + e.getMessage());
            return 2;
        }
        Configuration conf = JobConfigLoader.load(configFile, overrides);
        conf.set(JobOptions.BOOTSTRAP_SERVERS, bootstrapServers);
        Properties kafka = JobConfigLoader.kafkaProperties(conf);
        WebhookDispatcher.Settings webhooks;
        try {
            WebhookDispatcher.Settings d = WebhookDispatcher.Settings.none();
            webhooks =
                    d.withEndpoints(WebhookDispatcher.endpoints(conf.toMap()))
                            .withRetries(
                                    webhookAttempts,
                                    d.initialBackoff(),
                                    d.maxBackoff(),
                                    d.requestTimeout());
        } catch (IllegalArgumentException e) {
            System.err.println("error: " + e.getMessage());
            return 2;
        }
        ApiOptions options =
                ApiOptions.defaults(bootstrapServers, port, tokens)
                        .withKafkaProperties(kafka)
                        .withPostsPerSecondPerTenant(rate)
                        .withWebhooks(webhooks)
                        .withAgents(
                                conf.get(AgentOptions.ENABLED).stream().map(String::trim).toList());
        try {
            ApiServer.serveUntilShutdown(
                    options,
                    server ->
                            System.err.printf(
                                    "SignalStream API on http://0.0.0.0:%d (dashboard: /)%n",
                                    server.port()));
        } catch (IllegalStateException e) {
            System.err.println("error: " + e.getMessage());
            return 2;
        }
        return 0;
    }

    private TokenVerifier verifier() {
        JwtTokens.Expected expected = new JwtTokens.Expected(issuer, audience);
        if (jwks != null) {
            return jwks.startsWith("http://") || jwks.startsWith("https://")
                    ? JwtTokens.jwks(URI.create(jwks), expected)
                    : JwtTokens.jwks(Path.of(jwks), expected);
        }
        String secret = System.getenv(JwtTokens.SECRET_ENV);
        if (secret == null) {
            throw new IllegalArgumentException(
                    "set " + JwtTokens.SECRET_ENV + " (at least 32 bytes) or give --jwks");
        }
        return JwtTokens.hs256(secret.getBytes(StandardCharsets.UTF_8), expected);
    }
}
