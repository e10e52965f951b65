package io.signalstream.config;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.Configuration;

import java.time.Duration;

/**
 * Options of an LLM provider, keyed {@code signalstream.providers.<name>.*}. A provider named
 * anything but {@code local} is an OpenAI-compatible chat-completions server (OpenAI, Gemini's
 * OpenAI-compatible endpoint, vLLM, Ollama, llama.cpp's server). The API key is never an option
 * value: it is read from the environment variable or the file named here.
 */
public final class ProviderOptions {

    private ProviderOptions() {}

    /** Environment variable of the API key unless {@code api-key-env} says otherwise. */
    public static final String DEFAULT_API_KEY_ENV = "SIGNALSTREAM_LLM_API_KEY";

    /**
     * Puts every enabled agent on one provider: the common case of the CLI's {@code --provider} and
     * of the demo's loopback server. For a remote provider, also its base URL and model (when
     * given) and, unless the configuration sets them, an agent timeout suited to LLM latencies and
     * a join window 30 s longer.
     *
     * @param conf the configuration to change
     * @param provider {@code local} or a provider name
     * @param baseUrl base URL, or null to keep the configured one
     * @param model model name, or null to keep the configured one
     * @param remoteTimeout agent timeout for a remote provider when none is configured
     */
    public static void useForAllAgents(
            Configuration conf,
            String provider,
            String baseUrl,
            String model,
            Duration remoteTimeout) {
        for (String agent : conf.get(AgentOptions.ENABLED)) {
            conf.set(AgentOptions.provider(agent.trim()), provider);
        }
        if ("local".equals(provider)) {
            return;
        }
        if (baseUrl != null) {
            conf.set(baseUrl(provider), baseUrl);
        }
        if (model != null) {
            conf.set(model(provider), model);
        }
        if (!conf.contains(AgentOptions.TIMEOUT)) {
            conf.set(AgentOptions.TIMEOUT, remoteTimeout);
        }
        if (!conf.contains(JobOptions.JOIN_WINDOW)) {
            conf.set(JobOptions.JOIN_WINDOW, conf.get(AgentOptions.TIMEOUT).plusSeconds(30));
        }
    }

    private static String key(String provider, String option) {
        return "signalstream.providers." + provider + "." + option;
    }

    /**
     * Whether the agents on this provider that fire for the same message share one request, whose
     * schema combines theirs (one async operator, uid {@code agents-<provider>}, for all of them).
     */
    public static ConfigOption<Boolean> combineAgents(String provider) {
        return ConfigOptions.key(key(provider, "combine-agents"))
                .booleanType()
                .defaultValue(true)
                .withDescription(
                        "Agents on this provider firing for the same message share one"
                                + " chat-completions request (results, fallbacks, tokens and"
                                + " lineage stay per agent). Switching it changes the agent"
                                + " operators' uids: see the README on savepoints.");
    }

    /** Base URL up to and including {@code /v1}, e.g. {@code https://api.openai.com/v1}. */
    public static ConfigOption<String> baseUrl(String provider) {
        return ConfigOptions.key(key(provider, "base-url"))
                .stringType()
                .defaultValue("https://api.openai.com/v1")
                .withDescription("Base URL of the OpenAI-compatible API, ending in /v1.");
    }

    /** Model name sent in every request. */
    public static ConfigOption<String> model(String provider) {
        return ConfigOptions.key(key(provider, "model"))
                .stringType()
                .defaultValue("gpt-4o-mini")
                .withDescription("Model name, e.g. gpt-4o-mini, gemini-2.0-flash, llama3.1.");
    }

    /** Environment variable holding the API key. */
    public static ConfigOption<String> apiKeyEnv(String provider) {
        return ConfigOptions.key(key(provider, "api-key-env"))
                .stringType()
                .defaultValue(DEFAULT_API_KEY_ENV)
                .withDescription(
                        "Environment variable that holds the API key (may be unset for local"
                                + " servers).");
    }

    /** File holding the API key; wins over the environment variable when set. */
    public static ConfigOption<String> apiKeyFile(String provider) {
        return ConfigOptions.key(key(provider, "api-key-file"))
                .stringType()
                .noDefaultValue()
                .withDescription(
                        "File whose content is the API key (e.g. a mounted Kubernetes Secret).");
    }

    public static ConfigOption<Double> temperature(String provider) {
        return ConfigOptions.key(key(provider, "temperature"))
                .doubleType()
                .defaultValue(0.0)
                .withDescription("Sampling temperature.");
    }

    public static ConfigOption<Integer> maxTokens(String provider) {
        return ConfigOptions.key(key(provider, "max-tokens"))
                .intType()
                .defaultValue(400)
                .withDescription("Largest answer in tokens (max_tokens).");
    }

    public static ConfigOption<Duration> requestTimeout(String provider) {
        return ConfigOptions.key(key(provider, "request-timeout"))
                .durationType()
                .defaultValue(Duration.ofSeconds(20))
                .withDescription(
                        "Timeout of one HTTP request; retries and the fallback must fit in"
                                + " signalstream.agents.timeout.");
    }

    public static ConfigOption<Integer> maxInFlight(String provider) {
        return ConfigOptions.key(key(provider, "max-in-flight"))
                .intType()
                .defaultValue(32)
                .withDescription(
                        "Requests in flight to this provider per TaskManager; more wait without"
                                + " blocking.");
    }

    public static ConfigOption<Integer> requestsPerMinute(String provider) {
        return ConfigOptions.key(key(provider, "requests-per-minute"))
                .intType()
                .defaultValue(0)
                .withDescription("Request budget per TaskManager per minute; 0 = unlimited.");
    }

    public static ConfigOption<Long> tokensPerMinute(String provider) {
        return ConfigOptions.key(key(provider, "tokens-per-minute"))
                .longType()
                .defaultValue(0L)
                .withDescription(
                        "Token budget (estimated prompt + max answer) per TaskManager per minute; 0"
                                + " = unlimited.");
    }

    public static ConfigOption<Double> tenantShare(String provider) {
        return ConfigOptions.key(key(provider, "tenant-share"))
                .doubleType()
                .defaultValue(1.0)
                .withDescription(
                        "Largest fraction of the budget one tenant may use, in (0, 1]; 1 = no"
                                + " cap.");
    }

    public static ConfigOption<Integer> retryMaxAttempts(String provider) {
        return ConfigOptions.key(key(provider, "retry.max-attempts"))
                .intType()
                .defaultValue(4)
                .withDescription(
                        "HTTP attempts per call, the first included (429, 5xx, timeouts, connection"
                                + " errors).");
    }

    public static ConfigOption<Duration> retryInitialBackoff(String provider) {
        return ConfigOptions.key(key(provider, "retry.initial-backoff"))
                .durationType()
                .defaultValue(Duration.ofMillis(250))
                .withDescription(
                        "Backoff before the first retry; doubles per attempt, with jitter;"
                                + " Retry-After wins when longer.");
    }

    public static ConfigOption<Duration> retryMaxBackoff(String provider) {
        return ConfigOptions.key(key(provider, "retry.max-backoff"))
                .durationType()
                .defaultValue(Duration.ofSeconds(5))
                .withDescription("Upper bound of the computed backoff.");
    }

    public static ConfigOption<Integer> circuitFailureThreshold(String provider) {
        return ConfigOptions.key(key(provider, "circuit.failure-threshold"))
                .intType()
                .defaultValue(10)
                .withDescription(
                        "Consecutive failed calls that open the circuit (answers then come from the"
                                + " fallback provider).");
    }

    public static ConfigOption<Duration> circuitCoolDown(String provider) {
        return ConfigOptions.key(key(provider, "circuit.cool-down"))
                .durationType()
                .defaultValue(Duration.ofSeconds(30))
                .withDescription("How long the circuit stays open before one probe request.");
    }

    public static ConfigOption<Integer> cacheSize(String provider) {
        return ConfigOptions.key(key(provider, "cache.size"))
                .intType()
                .defaultValue(10_000)
                .withDescription(
                        "Answers kept per TaskManager, keyed by the hash of (provider, model,"
                                + " prompt); 0 = no cache.");
    }

    public static ConfigOption<Duration> cacheTtl(String provider) {
        return ConfigOptions.key(key(provider, "cache.ttl"))
                .durationType()
                .defaultValue(Duration.ofHours(1))
                .withDescription("How long a cached answer is reused.");
    }

    /** Default topic of the durable response log ({@link #responseLogTopic}). */
    public static final String DEFAULT_RESPONSE_LOG_TOPIC = "support.llm-responses";

    /**
     * Whether answers are appended to the durable response log and a new provider runtime warms its
     * cache from it. Takes effect only when the job names its Kafka ({@link
     * JobOptions#BOOTSTRAP_SERVERS} set) and the cache is on ({@link #cacheSize} &gt; 0).
     */
    public static ConfigOption<Boolean> responseLogEnabled(String provider) {
        return ConfigOptions.key(key(provider, "response-log.enabled"))
                .booleanType()
                .defaultValue(true)
                .withDescription(
                        "Append every valid answer to a compacted Kafka topic keyed by the request"
                                + " hash and warm the response cache from it when a TaskManager"
                                + " starts the provider (after a crash, restore or rescale), so"
                                + " no answer is paid for twice within the cache TTL. Needs"
                                + " signalstream.kafka.bootstrap-servers and cache.size > 0.");
    }

    /** Topic of the durable response log; several providers may share one. */
    public static ConfigOption<String> responseLogTopic(String provider) {
        return ConfigOptions.key(key(provider, "response-log.topic"))
                .stringType()
                .defaultValue(DEFAULT_RESPONSE_LOG_TOPIC)
                .withDescription(
                        "Compacted topic of the response log (cleanup.policy compact,delete,"
                                + " retention.ms = cache.ttl).");
    }

    /** Upper bound of the warm-up read; the job goes on with what was read by then. */
    public static ConfigOption<Duration> responseLogWarmupTimeout(String provider) {
        return ConfigOptions.key(key(provider, "response-log.warmup-timeout"))
                .durationType()
                .defaultValue(Duration.ofSeconds(30))
                .withDescription(
                        "How long a TaskManager may read the response log before the provider's"
                                + " first call; when it runs out (or the read fails) a warning"
                                + " is logged and the job goes on with what was read.");
    }

    public static ConfigOption<String> responseFormat(String provider) {
        return ConfigOptions.key(key(provider, "response-format"))
                .stringType()
                .defaultValue("json_schema")
                .withDescription(
                        "json_schema (structured output, the schema sent compact: without"
                                + " 'required' and 'additionalProperties'), json_schema_strict"
                                + " (OpenAI strict structured output: every object closed and"
                                + " fully required, about 500 more characters per combined"
                                + " request) or json_object; both json_schema forms fall back to"
                                + " json_object when the server rejects them. Answers are"
                                + " checked against the full schema either way.");
    }

    public static ConfigOption<Boolean> redactPii(String provider) {
        return ConfigOptions.key(key(provider, "redact-pii"))
                .booleanType()
                .defaultValue(true)
                .withDescription(
                        "Replace PII found by the local recognizers with typed placeholders before"
                                + " a prompt leaves the process.");
    }
}
