package io.signalstream.llm;

import io.signalstream.config.AgentOptions;
import io.signalstream.config.ProviderOptions;

import org.apache.flink.configuration.ReadableConfig;

import java.io.IOException;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The settings of one OpenAI-compatible provider, read from {@link ProviderOptions}. The API key is
 * not part of it: {@link #apiKey()} reads it when the client is created, from the file or
 * environment variable the settings name, so it never travels in the job graph or a log.
 *
 * @param name provider name, e.g. {@code openai}
 * @param baseUrl base URL ending in {@code /v1}, without a trailing slash
 * @param model model name
 * @param apiKeyEnv environment variable of the key
 * @param apiKeyFile file of the key, or null
 * @param temperature sampling temperature
 * @param maxTokens largest answer in tokens
 * @param requestTimeout timeout of one HTTP request
 * @param callDeadline time for one agent call, retries included (the operator timeout minus a
 *     margin for the fallback)
 * @param maxInFlight requests in flight per TaskManager
 * @param requestsPerMinute request budget, 0 = unlimited
 * @param tokensPerMinute token budget, 0 = unlimited
 * @param tenantShare per-tenant share of the budget, (0, 1]
 * @param maxAttempts HTTP attempts per call
 * @param initialBackoff backoff before the first retry
 * @param maxBackoff upper bound of the computed backoff
 * @param circuitFailureThreshold consecutive failures that open the circuit
 * @param circuitCoolDown how long the circuit stays open
 * @param cacheSize cached answers, 0 = none
 * @param cacheTtl how long an answer is reused
 * @param jsonSchema whether to ask for {@code json_schema} structured output first
 * @param redactPii whether PII is replaced by placeholders before sending
 * @param strictSchema whether {@code json_schema} is sent with {@code strict: true} and every
 *     object closed and fully required ({@code response-format: json_schema_strict})
 * @param responseLog where answers are logged durably and the cache is warmed from ({@link
 *     ResponseLogSettings#OFF} when off)
 */
public record ProviderSettings(
        String name,
        String baseUrl,
        String model,
        String apiKeyEnv,
        String apiKeyFile,
        double temperature,
        int maxTokens,
        Duration requestTimeout,
        Duration callDeadline,
        int maxInFlight,
        int requestsPerMinute,
        long tokensPerMinute,
        double tenantShare,
        int maxAttempts,
        Duration initialBackoff,
        Duration maxBackoff,
        int circuitFailureThreshold,
        Duration circuitCoolDown,
        int cacheSize,
        Duration cacheTtl,
        boolean jsonSchema,
        boolean redactPii,
        boolean strictSchema,
        ResponseLogSettings responseLog)
        implements Serializable {

    /**
     * Reads a provider's settings.
     *
     * @throws IllegalArgumentException for an invalid value (named in the message)
     */
    public static ProviderSettings from(ReadableConfig conf, String name) {
        String url = conf.get(ProviderOptions.baseUrl(name)).trim();
        while (url.endsWith("/")) {
            url = url.substring(0, url.length() - 1);
        }
        if (!url.startsWith("http://") && !url.startsWith("https://")) {
            throw new IllegalArgumentException(
                    "signalstream.providers."
                            + name
                            + ".base-url must be an http(s) URL, got '"
                            + url
                            + "'");
        }
        String format = conf.get(ProviderOptions.responseFormat(name));
        if (!format.equals("json_schema")
                && !format.equals("json_schema_strict")
                && !format.equals("json_object")) {
            throw new IllegalArgumentException(
                    "signalstream.providers."
                            + name
                            + ".response-format must be json_schema, json_schema_strict or"
                            + " json_object");
        }
        double share = conf.get(ProviderOptions.tenantShare(name));
        if (!(share > 0 && share <= 1)) {
            throw new IllegalArgumentException(
                    "signalstream.providers."
                            + name
                            + ".tenant-share must be in (0, 1], got "
                            + share);
        }
        int rpm = conf.get(ProviderOptions.requestsPerMinute(name));
        if (rpm > 0 && share < 1 && share * rpm < 1) {
            throw new IllegalArgumentException(
                    "signalstream.providers."
                            + name
                            + ".tenant-share × requests-per-minute must be"
                            + " at least 1 request, got "
                            + share
                            + " × "
                            + rpm);
        }
        Duration operatorTimeout = conf.get(AgentOptions.TIMEOUT);
        Duration margin =
                operatorTimeout.dividedBy(10).compareTo(Duration.ofSeconds(1)) > 0
                        ? operatorTimeout.dividedBy(10)
                        : Duration.ofMillis(Math.min(1000, operatorTimeout.toMillis() / 4));
        return new ProviderSettings(
                name,
                url,
                conf.get(ProviderOptions.model(name)),
                conf.get(ProviderOptions.apiKeyEnv(name)),
                conf.get(ProviderOptions.apiKeyFile(name)),
                conf.get(ProviderOptions.temperature(name)),
                conf.get(ProviderOptions.maxTokens(name)),
                conf.get(ProviderOptions.requestTimeout(name)),
                operatorTimeout.minus(margin),
                conf.get(ProviderOptions.maxInFlight(name)),
                rpm,
                conf.get(ProviderOptions.tokensPerMinute(name)),
                share,
                Math.max(1, conf.get(ProviderOptions.retryMaxAttempts(name))),
                conf.get(ProviderOptions.retryInitialBackoff(name)),
                conf.get(ProviderOptions.retryMaxBackoff(name)),
                conf.get(ProviderOptions.circuitFailureThreshold(name)),
                conf.get(ProviderOptions.circuitCoolDown(name)),
                conf.get(ProviderOptions.cacheSize(name)),
                conf.get(ProviderOptions.cacheTtl(name)),
                !format.equals("json_object"),
                conf.get(ProviderOptions.redactPii(name)),
                format.equals("json_schema_strict"),
                ResponseLogSettings.from(conf, name, conf.get(ProviderOptions.cacheSize(name))));
    }

    /**
     * The API key: the content of {@code apiKeyFile} if set, else the environment variable {@code
     * apiKeyEnv}, else null (local servers need none).
     *
     * @throws IllegalStateException if the key file cannot be read
     */
    public String apiKey() {
        if (apiKeyFile != null && !apiKeyFile.isBlank()) {
            try {
                return Files.readString(Path.of(apiKeyFile), StandardCharsets.UTF_8).trim();
            } catch (IOException e) {
                throw new IllegalStateException(
                        "cannot read the API key file of provider " + name + ": " + e.getMessage(),
                        e);
            }
        }
        String key = System.getenv(apiKeyEnv);
        return key == null || key.isBlank() ? null : key.trim();
    }

    /** The settings without the key-file path, for logs. */
    @Override
    public String toString() {
        return "ProviderSettings{" + name + ", " + baseUrl + ", model " + model + "}";
    }
}
