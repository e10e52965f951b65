package io.signalstream.config;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;

import java.time.Duration;
import java.util.List;

/**
 * Options of the agents. Per-agent options are keyed {@code signalstream.agents.<agent>.*}, e.g.
 * {@code signalstream.agents.summary.trigger: debounced}.
 */
public final class AgentOptions {

    private AgentOptions() {}

    /** The four agents the job knows. */
    public static final List<String> ALL_AGENTS =
            List.of("pii", "sentiment", "insights", "summary");

    public static final ConfigOption<List<String>> ENABLED =
            ConfigOptions.key("signalstream.agents.enabled")
                    .stringType()
                    .asList()
                    .defaultValues(ALL_AGENTS.toArray(new String[0]))
                    .withDescription(
                            "Agents to run, a subset of pii, sentiment, insights, summary.");

    public static final ConfigOption<Duration> TIMEOUT =
            ConfigOptions.key("signalstream.agents.timeout")
                    .durationType()
                    .defaultValue(Duration.ofSeconds(10))
                    .withDescription(
                            "Async I/O timeout of one agent call, retries included; when it"
                                    + " passes the agent yields a 'timeout' result.");

    public static final ConfigOption<Integer> CAPACITY =
            ConfigOptions.key("signalstream.agents.capacity")
                    .intType()
                    .defaultValue(64)
                    .withDescription(
                            "In-flight requests per async operator subtask; size it by Little's"
                                    + " law: message rate × agent latency.");

    public static final ConfigOption<Integer> RETRY_MAX_ATTEMPTS =
            ConfigOptions.key("signalstream.agents.retry.max-attempts")
                    .intType()
                    .defaultValue(3)
                    .withDescription("Attempts per agent call, the first included.");

    public static final ConfigOption<Duration> RETRY_INITIAL_BACKOFF =
            ConfigOptions.key("signalstream.agents.retry.initial-backoff")
                    .durationType()
                    .defaultValue(Duration.ofMillis(200))
                    .withDescription("Backoff before the first retry; doubles per attempt.");

    public static final ConfigOption<Duration> RETRY_MAX_BACKOFF =
            ConfigOptions.key("signalstream.agents.retry.max-backoff")
                    .durationType()
                    .defaultValue(Duration.ofSeconds(3))
                    .withDescription("Upper bound of the retry backoff.");

    public static final ConfigOption<Integer> LOCAL_THREADS =
            ConfigOptions.key("signalstream.agents.local.threads")
                    .intType()
                    .defaultValue(2)
                    .withDescription(
                            "Threads of the bounded executor that runs the local analyzers off"
                                    + " the task thread, per async operator subtask.");

    /** {@code signalstream.agents.<agent>.trigger}: every-message, customer-messages, debounced. */
    public static ConfigOption<String> trigger(String agent) {
        return ConfigOptions.key("signalstream.agents." + agent + ".trigger")
                .stringType()
                .defaultValue("summary".equals(agent) ? "debounced" : "customer-messages")
                .withDescription(
                        "When the agent runs: every-message, customer-messages or debounced.");
    }

    /** {@code signalstream.agents.<agent>.debounce.every-n}: run after this many messages. */
    public static ConfigOption<Integer> debounceEveryN(String agent) {
        return ConfigOptions.key("signalstream.agents." + agent + ".debounce.every-n")
                .intType()
                .defaultValue(3)
                .withDescription(
                        "Debounced trigger: run once this many messages arrived since the"
                                + " agent last ran.");
    }

    /** {@code signalstream.agents.<agent>.debounce.idle-gap}: run when a conversation resumes. */
    public static ConfigOption<Duration> debounceIdleGap(String agent) {
        return ConfigOptions.key("signalstream.agents." + agent + ".debounce.idle-gap")
                .durationType()
                .defaultValue(Duration.ofMinutes(5))
                .withDescription(
                        "Debounced trigger: run when the message follows a pause of at least"
                                + " this long (event time).");
    }

    /**
     * {@code signalstream.agents.<agent>.provider}: the provider that answers: {@code local}, or
     * the name of an OpenAI-compatible provider configured under {@code
     * signalstream.providers.<name>}.
     */
    public static ConfigOption<String> provider(String agent) {
        return ConfigOptions.key("signalstream.agents." + agent + ".provider")
                .stringType()
                .defaultValue("local")
                .withDescription("Provider of the agent: local or a configured provider name.");
    }

    /** {@code signalstream.agents.<agent>.fallback-provider}: answers when the provider cannot. */
    public static ConfigOption<String> fallbackProvider(String agent) {
        return ConfigOptions.key("signalstream.agents." + agent + ".fallback-provider")
                .stringType()
                .defaultValue("local")
                .withDescription(
                        "Provider that answers when the agent's provider gives no valid answer;"
                                + " its results say status fallback.");
    }
}
