package io.signalstream.config;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;

import java.time.Duration;

/**
 * The job's own options, read from the Flink {@link org.apache.flink.configuration.Configuration}
 * (so they can be set in {@code config.yaml}, the FlinkDeployment's {@code flinkConfiguration} or
 * with {@code -D key=value} on the CLI). Agent options live in {@link AgentOptions}.
 */
public final class JobOptions {

    private JobOptions() {}

    public static final ConfigOption<String> BOOTSTRAP_SERVERS =
            ConfigOptions.key("signalstream.kafka.bootstrap-servers")
                    .stringType()
                    .defaultValue("127.0.0.1:9092")
                    .withDescription("Kafka bootstrap servers of the input and output topics.");

    /**
     * Kafka client properties (security) are options {@code signalstream.kafka.properties.<name>};
     * the job copies those it got from the environment here too, so the clients made on the task
     * managers (the LLM response log) see the same properties as the source and sinks.
     */
    public static final String KAFKA_PROPERTIES_PREFIX = "signalstream.kafka.properties.";

    public static final ConfigOption<String> GROUP_ID =
            ConfigOptions.key("signalstream.kafka.group-id")
                    .stringType()
                    .defaultValue("signalstream")
                    .withDescription("Consumer group id of the input source.");

    public static final ConfigOption<String> TRANSACTIONAL_ID_PREFIX =
            ConfigOptions.key("signalstream.kafka.transactional-id-prefix")
                    .stringType()
                    .defaultValue("signalstream")
                    .withDescription(
                            "Prefix of the sinks' transactional ids; each sink appends its own"
                                    + " name. Must be unique per job on a Kafka cluster.");

    public static final ConfigOption<Integer> SOURCE_MAX_POLL_RECORDS =
            ConfigOptions.key("signalstream.kafka.source.max-poll-records")
                    .intType()
                    .defaultValue(100)
                    .withDescription(
                            "max.poll.records of the Kafka source: records per fetch handed to"
                                    + " the pipeline. Small batches keep a backlog from flooding"
                                    + " the network buffers in front of the async agents (Kafka's"
                                    + " default is 500); a signalstream.kafka.properties."
                                    + "max.poll.records wins over it.");

    public static final ConfigOption<Duration> TRANSACTION_TIMEOUT =
            ConfigOptions.key("signalstream.kafka.transaction-timeout")
                    .durationType()
                    .defaultValue(Duration.ofMinutes(10))
                    .withDescription(
                            "transaction.timeout.ms of the exactly-once sinks; must stay below"
                                    + " the broker's transaction.max.timeout.ms (15 min by"
                                    + " default) and above the checkpoint interval.");

    public static final ConfigOption<String> TOPIC_INPUT =
            ConfigOptions.key("signalstream.topics.input")
                    .stringType()
                    .defaultValue("support.messages.raw")
                    .withDescription("Input topic of raw chat messages.");

    public static final ConfigOption<String> TOPIC_STATE =
            ConfigOptions.key("signalstream.topics.state")
                    .stringType()
                    .defaultValue("support.conversations.state")
                    .withDescription("Output topic of conversation snapshots.");

    public static final ConfigOption<String> TOPIC_AGENT_PREFIX =
            ConfigOptions.key("signalstream.topics.agent-prefix")
                    .stringType()
                    .defaultValue("support.ai.")
                    .withDescription("Prefix of the per-agent result topics (prefix + agent).");

    public static final ConfigOption<String> TOPIC_AGGREGATED =
            ConfigOptions.key("signalstream.topics.aggregated")
                    .stringType()
                    .defaultValue("support.ai.aggregated")
                    .withDescription("Compacted output topic of aggregated intelligence.");

    public static final ConfigOption<String> TOPIC_LINEAGE =
            ConfigOptions.key("signalstream.topics.lineage")
                    .stringType()
                    .defaultValue("support.lineage")
                    .withDescription("Output topic of lineage records.");

    public static final ConfigOption<String> TOPIC_DLQ =
            ConfigOptions.key("signalstream.topics.dlq")
                    .stringType()
                    .defaultValue("support.dlq")
                    .withDescription("Dead-letter topic.");

    public static final ConfigOption<String> TOPIC_ALERTS =
            ConfigOptions.key("signalstream.topics.alerts")
                    .stringType()
                    .defaultValue("support.alerts")
                    .withDescription("Output topic of real-time alerts.");
    public static final ConfigOption<String> TOPIC_FEEDBACK =
            ConfigOptions.key("signalstream.topics.feedback")
                    .stringType()
                    .defaultValue("support.feedback")
                    .withDescription("Input topic of human feedback on agent results.");

    public static final ConfigOption<String> TOPIC_LEARNING_SIGNALS =
            ConfigOptions.key("signalstream.topics.learning-signals")
                    .stringType()
                    .defaultValue("support.learning-signals")
                    .withDescription(
                            "Output topic of learning signals: feedback joined with the agent"
                                    + " result it judges.");

    public static final ConfigOption<Boolean> FEEDBACK_ENABLED =
            ConfigOptions.key("signalstream.feedback.enabled")
                    .booleanType()
                    .defaultValue(true)
                    .withDescription(
                            "Whether the job reads the feedback topic and writes learning"
                                    + " signals; off, neither topic is needed.");

    public static final ConfigOption<Duration> FEEDBACK_TTL =
            ConfigOptions.key("signalstream.feedback.ttl")
                    .durationType()
                    .defaultValue(Duration.ofHours(24))
                    .withDescription(
                            "Processing time the feedback join keeps each agent result and lets"
                                    + " a feedback wait for its result; unmatched feedback then"
                                    + " goes to the dead-letter topic. State grows with the"
                                    + " agent results of this period.");

    public static final ConfigOption<Integer> TRANSCRIPT_WINDOW =
            ConfigOptions.key("signalstream.state.transcript-window")
                    .intType()
                    .defaultValue(20)
                    .withDescription("How many recent messages a snapshot carries.");

    public static final ConfigOption<Duration> STATE_TTL =
            ConfigOptions.key("signalstream.state.ttl")
                    .durationType()
                    .defaultValue(Duration.ofDays(7))
                    .withDescription(
                            "Idle time after which a conversation's keyed state expires; a"
                                    + " conversation that resumes later starts again at"
                                    + " version 1.");

    public static final ConfigOption<Duration> JOIN_WINDOW =
            ConfigOptions.key("signalstream.aggregator.join-window")
                    .durationType()
                    .defaultValue(Duration.ofSeconds(30))
                    .withDescription(
                            "Processing time the aggregator waits for the agents of a version"
                                    + " before it emits a partial record; keep it above"
                                    + " the agent timeout.");

    public static final ConfigOption<Integer> MAX_MESSAGE_BYTES =
            ConfigOptions.key("signalstream.input.max-message-bytes")
                    .intType()
                    .defaultValue(64 * 1024)
                    .withDescription("Largest accepted message body in UTF-8 bytes.");

    public static final ConfigOption<Integer> MAX_ID_LENGTH =
            ConfigOptions.key("signalstream.input.max-id-length")
                    .intType()
                    .defaultValue(128)
                    .withDescription("Longest accepted tenant, conversation or message id.");

    public static final ConfigOption<Duration> MAX_FUTURE_SKEW =
            ConfigOptions.key("signalstream.input.max-future-skew")
                    .durationType()
                    .defaultValue(Duration.ofDays(1))
                    .withDescription("How far in the future a message timestamp may be.");
}
