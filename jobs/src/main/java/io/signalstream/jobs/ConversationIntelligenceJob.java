package io.signalstream.jobs;

import io.signalstream.agents.AgentSpec;
import io.signalstream.agents.JitteredBackoffRetryStrategy;
import io.signalstream.agents.local.LocalAgentProvider;
import io.signalstream.config.AgentOptions;
import io.signalstream.config.AlertOptions;
import io.signalstream.config.JobOptions;
import io.signalstream.config.ProviderOptions;
import io.signalstream.events.AgentResult;
import io.signalstream.events.AggregatedIntelligence;
import io.signalstream.events.Alert;
import io.signalstream.events.ChatMessage;
import io.signalstream.events.ConversationSnapshot;
import io.signalstream.events.DeadLetter;
import io.signalstream.events.Feedback;
import io.signalstream.events.LearningSignal;
import io.signalstream.events.LineageRecord;
import io.signalstream.events.RawRecord;
import io.signalstream.functions.AgentAsyncFunction;
import io.signalstream.functions.AgentProviders;
import io.signalstream.functions.AlertFunction;
import io.signalstream.functions.ConversationStateFunction;
import io.signalstream.functions.FeedbackJoinFunction;
import io.signalstream.functions.IntelligenceAggregator;
import io.signalstream.functions.ParseAndValidateFunction;
import io.signalstream.functions.ParseFeedbackFunction;
import io.signalstream.serde.ChatMessageParser;
import io.signalstream.serde.FeedbackParser;
import io.signalstream.serde.RawRecordDeserializationSchema;

import org.apache.flink.annotation.VisibleForTesting;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.datastream.AsyncDataStream;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

/**
 * The conversation-intelligence pipeline:
 *
 * <pre>
 * support.messages.raw → parse + validate ──bad──► support.dlq
 *   → keyBy(tenant:conversation) → ConversationStateFunction ──► support.conversations.state
 *   → one async I/O operator per agent (or per combining provider) ──► support.ai.&lt;agent&gt;
 *   → IntelligenceAggregator (join with the snapshot anchor) ──► support.ai.aggregated
 *                                                            └─► support.lineage
 *   → AlertFunction (aggregated + snapshots) ──► support.alerts
 * support.feedback → parse + validate ──bad──► support.dlq
 *   → FeedbackJoinFunction (keyBy tenant:conversation, with the agent results)
 *       ──► support.learning-signals, unmatched within the TTL ──► support.dlq
 * </pre>
 *
 * <p>The source and the sinks are injected, so tests can run the same wiring; {@link
 * #kafka(Configuration, Properties)} builds the production job. Every stateful, async and sink
 * operator has a stable uid (the {@code UID_*} constants and {@link #agentUid}); changing one
 * breaks savepoint compatibility.
 */
public final class ConversationIntelligenceJob {

    public static final String UID_SOURCE = "source-messages-raw";
    public static final String UID_PARSE = "parse-and-validate";
    public static final String UID_STATE = "conversation-state";
    public static final String UID_AGGREGATOR = "intelligence-aggregator";
    public static final String UID_SINK_STATE = "sink-conversation-state";
    public static final String UID_SINK_AGENTS = "sink-agent-results";
    public static final String UID_SINK_AGGREGATED = "sink-aggregated";
    public static final String UID_SINK_LINEAGE = "sink-lineage";
    public static final String UID_SINK_DLQ = "sink-dlq";
    public static final String UID_ALERTS = "alerts";
    public static final String UID_SINK_ALERTS = "sink-alerts";
    public static final String UID_SOURCE_FEEDBACK = "source-feedback";
    public static final String UID_PARSE_FEEDBACK = "parse-feedback";
    public static final String UID_FEEDBACK_JOIN = "feedback-join";
    public static final String UID_SINK_LEARNING_SIGNALS = "sink-learning-signals";

    private final Configuration conf;
    private final Source<RawRecord, ?, ?> source;
    private final IntelligenceSinks sinks;
    private AgentFunctionFactory agentFunctions = AgentAsyncFunction::new;
    private UnaryOperator<DataStream<ChatMessage>> messageStage = UnaryOperator.identity();
    private Source<RawRecord, ?, ?> feedbackSource;

    /** Creates the async function of an agent; tests substitute failing or slow ones. */
    @FunctionalInterface
    public interface AgentFunctionFactory {
        /**
         * @param agents the agents of the operator (one, or all agents on a combining provider)
         * @param conf job configuration
         * @param timeoutMs the async timeout in milliseconds
         * @param maxAttempts attempts of the retry strategy
         */
        AgentAsyncFunction create(
                List<AgentSpec> agents, Configuration conf, long timeoutMs, int maxAttempts);
    }

    /**
     * @param conf job configuration ({@link JobOptions}, {@link AgentOptions})
     * @param source the input records
     * @param sinks the outputs
     */
    public ConversationIntelligenceJob(
            Configuration conf, Source<RawRecord, ?, ?> source, IntelligenceSinks sinks) {
        this.conf = conf;
        this.source = source;
        this.sinks = sinks;
    }

    /**
     * The production job: Kafka in, exactly-once Kafka out.
     *
     * @param conf job configuration
     * @param kafkaProperties extra Kafka client properties for the source and sinks (security)
     */
    public static ConversationIntelligenceJob kafka(
            Configuration conf, Properties kafkaProperties) {
        KafkaSource<RawRecord> source =
                KafkaSource.<RawRecord>builder()
                        .setBootstrapServers(conf.get(JobOptions.BOOTSTRAP_SERVERS))
                        .setTopics(conf.get(JobOptions.TOPIC_INPUT))
                        .setGroupId(conf.get(JobOptions.GROUP_ID))
                        .setStartingOffsets(committedOrEarliest())
                        .setDeserializer(new RawRecordDeserializationSchema())
                        .setProperty(
                                "max.poll.records",
                                String.valueOf(conf.get(JobOptions.SOURCE_MAX_POLL_RECORDS)))
                        .setProperties(kafkaProperties)
                        .setProperty("isolation.level", "read_committed")
                        .build();
        KafkaSource<RawRecord> feedback =
                KafkaSource.<RawRecord>builder()
                        .setBootstrapServers(conf.get(JobOptions.BOOTSTRAP_SERVERS))
                        .setTopics(conf.get(JobOptions.TOPIC_FEEDBACK))
                        .setGroupId(conf.get(JobOptions.GROUP_ID))
                        .setStartingOffsets(committedOrEarliest())
                        .setDeserializer(new RawRecordDeserializationSchema())
                        .setProperties(kafkaProperties)
                        .setProperty("isolation.level", "read_committed")
                        .build();
        return new ConversationIntelligenceJob(
                        withKafkaProperties(conf, kafkaProperties),
                        source,
                        new KafkaIntelligenceSinks(conf, kafkaProperties))
                .withFeedbackSource(conf.get(JobOptions.FEEDBACK_ENABLED) ? feedback : null);
    }

    /**
     * A copy of the configuration that also holds the Kafka client properties (those from the
     * environment too) as {@code signalstream.kafka.properties.<name>} options, so the Kafka
     * clients the functions make on the task managers (the LLM response log) connect like the
     * source and sinks. Options already set win, as in {@link JobConfigLoader#kafkaProperties}.
     */
    static Configuration withKafkaProperties(Configuration conf, Properties kafkaProperties) {
        Configuration copy = new Configuration(conf);
        for (String name : kafkaProperties.stringPropertyNames()) {
            String key = JobOptions.KAFKA_PROPERTIES_PREFIX + name;
            if (!copy.containsKey(key)) {
                copy.setString(key, kafkaProperties.getProperty(name));
            }
        }
        return copy;
    }

    /**
     * Adds the feedback loop: feedback records from {@code source} are validated and joined with
     * the agent results into learning signals ({@link IntelligenceSinks#learningSignals()}).
     * Without it the job has no feedback input.
     *
     * @param source raw feedback records ({@code support.feedback}); {@code null} for none
     * @return this job
     */
    public ConversationIntelligenceJob withFeedbackSource(Source<RawRecord, ?, ?> source) {
        this.feedbackSource = source;
        return this;
    }

    @SuppressWarnings("deprecation")
    private static OffsetsInitializer committedOrEarliest() {
        return OffsetsInitializer.committedOffsets(
                org.apache.kafka.clients.consumer.OffsetResetStrategy.EARLIEST);
    }

    /**
     * Replaces how agent functions are made (tests inject faults inside an agent this way).
     *
     * @return this job
     */
    @VisibleForTesting
    public ConversationIntelligenceJob withAgentFunctions(AgentFunctionFactory factory) {
        this.agentFunctions = factory;
        return this;
    }

    /**
     * Inserts operators between validation and the keyed state (tests inject failures this way;
     * each inserted operator needs its own uid).
     *
     * @return this job
     */
    @VisibleForTesting
    public ConversationIntelligenceJob withMessageStage(
            UnaryOperator<DataStream<ChatMessage>> stage) {
        this.messageStage = stage;
        return this;
    }

    /** The uid of an agent's async operator: {@code agent-<name>}. */
    public static String agentUid(String agent) {
        return "agent-" + agent;
    }

    /** The uid of the async operator of all agents on a combining provider. */
    public static String providerUid(String provider) {
        return "agents-" + provider;
    }

    /**
     * The agent operators: one per agent, except that all agents on a remote provider with {@code
     * combine-agents} on share one operator (keyed by its uid, in configuration order).
     */
    public static Map<String, List<AgentSpec>> agentOperators(
            List<AgentSpec> agents, Configuration conf) {
        Map<String, List<AgentSpec>> ops = new LinkedHashMap<>();
        for (AgentSpec a : agents) {
            boolean combine =
                    !LocalAgentProvider.NAME.equals(a.provider())
                            && conf.get(ProviderOptions.combineAgents(a.provider()));
            String uid = combine ? providerUid(a.provider()) : agentUid(a.name());
            ops.computeIfAbsent(uid, k -> new ArrayList<>()).add(a);
        }
        return ops;
    }

    /**
     * Adds the pipeline to the environment.
     *
     * @throws IllegalArgumentException if the agent configuration is invalid
     */
    public void build(StreamExecutionEnvironment env) {
        List<AgentSpec> agents = AgentProviders.specs(conf);
        if (agents.isEmpty()) {
            throw new IllegalArgumentException("signalstream.agents.enabled names no agent");
        }
        ChatMessageParser parser =
                new ChatMessageParser(
                        conf.get(JobOptions.MAX_MESSAGE_BYTES),
                        conf.get(JobOptions.MAX_ID_LENGTH),
                        conf.get(JobOptions.MAX_FUTURE_SKEW));

        DataStream<RawRecord> raw =
                env.fromSource(source, WatermarkStrategy.noWatermarks(), "messages-raw")
                        .uid(UID_SOURCE)
                        .name("source: " + conf.get(JobOptions.TOPIC_INPUT));

        SingleOutputStreamOperator<ChatMessage> messages =
                raw.process(new ParseAndValidateFunction(parser))
                        .uid(UID_PARSE)
                        .name("parse and validate");
        DataStream<DeadLetter> deadLetters =
                messages.getSideOutput(ParseAndValidateFunction.DEAD_LETTERS);

        SingleOutputStreamOperator<ConversationSnapshot> snapshots =
                messageStage
                        .apply(messages)
                        .keyBy(ChatMessage::conversationKey)
                        .process(
                                new ConversationStateFunction(
                                        agents,
                                        conf.get(JobOptions.TRANSCRIPT_WINDOW),
                                        conf.get(JobOptions.STATE_TTL)))
                        .uid(UID_STATE)
                        .name("conversation state");

        long timeoutMs = conf.get(AgentOptions.TIMEOUT).toMillis();
        JitteredBackoffRetryStrategy retry =
                new JitteredBackoffRetryStrategy(
                        conf.get(AgentOptions.RETRY_MAX_ATTEMPTS),
                        conf.get(AgentOptions.RETRY_INITIAL_BACKOFF).toMillis(),
                        conf.get(AgentOptions.RETRY_MAX_BACKOFF).toMillis());
        DataStream<AgentResult> results = null;
        for (Map.Entry<String, List<AgentSpec>> op : agentOperators(agents, conf).entrySet()) {
            String uid = op.getKey();
            List<AgentSpec> group = op.getValue();
            Set<String> names = new HashSet<>();
            group.forEach(a -> names.add(a.name()));
            String label = String.join("+", group.stream().map(AgentSpec::name).toList());
            DataStream<ConversationSnapshot> scheduled =
                    snapshots
                            .filter(s -> s.scheduledAgents().stream().anyMatch(names::contains))
                            .uid("select-" + uid.replaceFirst("^agent-", ""))
                            .name("scheduled for " + label);
            DataStream<AgentResult> answered =
                    AsyncDataStream.unorderedWaitWithRetry(
                                    scheduled,
                                    agentFunctions.create(
                                            group,
                                            conf,
                                            timeoutMs,
                                            conf.get(AgentOptions.RETRY_MAX_ATTEMPTS)),
                                    timeoutMs,
                                    TimeUnit.MILLISECONDS,
                                    conf.get(AgentOptions.CAPACITY),
                                    retry)
                            .uid(uid)
                            .name("agent: " + label);
            results = results == null ? answered : results.union(answered);
        }

        DataStream<AgentResult> agentResults = results;
        SingleOutputStreamOperator<AggregatedIntelligence> aggregated =
                snapshots
                        .connect(agentResults)
                        .keyBy(ConversationSnapshot::conversationKey, AgentResult::conversationKey)
                        .process(
                                new IntelligenceAggregator(
                                        conf.get(JobOptions.JOIN_WINDOW),
                                        conf.get(JobOptions.STATE_TTL),
                                        conf.get(JobOptions.TOPIC_AGGREGATED)))
                        .uid(UID_AGGREGATOR)
                        .name("intelligence aggregator");
        DataStream<LineageRecord> lineage =
                aggregated.getSideOutput(IntelligenceAggregator.LINEAGE);
        // Alerts: evaluated on the aggregated records, with the snapshots for sender and time.
        DataStream<Alert> alerts =
                snapshots
                        .connect(aggregated)
                        .keyBy(
                                ConversationSnapshot::conversationKey,
                                AggregatedIntelligence::conversationKey)
                        .process(
                                new AlertFunction(
                                        AlertOptions.rules(conf), conf.get(JobOptions.STATE_TTL)))
                        .uid(UID_ALERTS)
                        .name("alerts");

        deadLetters = feedbackLoop(env, agentResults, agents, deadLetters);
        snapshots.sinkTo(sinks.snapshots()).uid(UID_SINK_STATE).name("sink: conversation state");
        agentResults.sinkTo(sinks.agentResults()).uid(UID_SINK_AGENTS).name("sink: agent results");
        aggregated.sinkTo(sinks.aggregated()).uid(UID_SINK_AGGREGATED).name("sink: aggregated");
        lineage.sinkTo(sinks.lineage()).uid(UID_SINK_LINEAGE).name("sink: lineage");
        deadLetters.sinkTo(sinks.deadLetters()).uid(UID_SINK_DLQ).name("sink: dead letters");
        alerts.sinkTo(sinks.alerts()).uid(UID_SINK_ALERTS).name("sink: alerts");
    }

    /**
     * The feedback loop (when a feedback source is set): parse + validate, the keyed join with the
     * agent results, the learning-signal sink.
     *
     * @return {@code deadLetters} with the feedback's dead letters added
     */
    private DataStream<DeadLetter> feedbackLoop(
            StreamExecutionEnvironment env,
            DataStream<AgentResult> agentResults,
            List<AgentSpec> agents,
            DataStream<DeadLetter> deadLetters) {
        if (feedbackSource == null) {
            return deadLetters;
        }
        List<String> names = agents.stream().map(AgentSpec::name).toList();
        SingleOutputStreamOperator<Feedback> feedback =
                env.fromSource(feedbackSource, WatermarkStrategy.noWatermarks(), "feedback")
                        .uid(UID_SOURCE_FEEDBACK)
                        .name("source: " + conf.get(JobOptions.TOPIC_FEEDBACK))
                        .process(
                                new ParseFeedbackFunction(
                                        new FeedbackParser(
                                                names,
                                                conf.get(JobOptions.MAX_ID_LENGTH),
                                                conf.get(JobOptions.MAX_FUTURE_SKEW))))
                        .uid(UID_PARSE_FEEDBACK)
                        .name("parse feedback");
        SingleOutputStreamOperator<LearningSignal> signals =
                feedback.connect(agentResults)
                        .keyBy(Feedback::conversationKey, AgentResult::conversationKey)
                        .process(new FeedbackJoinFunction(conf.get(JobOptions.FEEDBACK_TTL), names))
                        .uid(UID_FEEDBACK_JOIN)
                        .name("feedback join");
        signals.sinkTo(sinks.learningSignals())
                .uid(UID_SINK_LEARNING_SIGNALS)
                .name("sink: learning signals");
        return deadLetters.union(
                feedback.getSideOutput(ParseFeedbackFunction.DEAD_LETTERS),
                signals.getSideOutput(FeedbackJoinFunction.DEAD_LETTERS));
    }

    /**
     * Builds the pipeline and submits it without waiting for it to end.
     *
     * @param env the environment (local MiniCluster or a cluster)
     * @param jobName the job's name
     * @return a client to watch, cancel or savepoint the job
     * @throws Exception if the job cannot be submitted
     */
    public JobClient executeAsync(StreamExecutionEnvironment env, String jobName) throws Exception {
        build(env);
        return env.executeAsync(jobName);
    }
}
