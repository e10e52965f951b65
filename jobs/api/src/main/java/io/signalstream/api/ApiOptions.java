package io.signalstream.api;

import io.signalstream.config.AgentOptions;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Properties;

/**
 * What the API service needs: the Kafka it reads and writes, how it authenticates, its port and its
 * limits.
 *
 * @param bootstrapServers Kafka bootstrap servers, e.g. {@code kafka:9092}
 * @param kafkaProperties extra Kafka client properties (security); copied, never logged
 * @param port HTTP port; 0 picks a free one
 * @param tokens verifies bearer tokens and names their tenant
 * @param inputTopic where posted messages go ({@code support.messages.raw})
 * @param aggregatedTopic the compacted topic of the view ({@code support.ai.aggregated})
 * @param stateTopic conversation snapshots, for the latest messages ({@code
 *     support.conversations.state})
 * @param viewMaxConversations most conversations the view keeps (least recently updated evicted)
 * @param postsPerSecondPerTenant sustained {@code POST /v1/messages} rate per tenant; bursts of one
 *     second's worth are allowed; beyond it, 429 with {@code Retry-After}
 * @param maxBodyBytes largest accepted request body
 * @param produceTimeout how long a post waits for the broker's acknowledgement before 503
 * @param alertsTopic the job's alerts ({@code support.alerts})
 * @param webhooks per-tenant alert webhooks and their retry bounds
 * @param webhookGroup consumer group of the webhook delivery (its committed offsets say what was
 *     delivered)
 * @param webhookMaxAge alerts older than this when read are not delivered to webhooks
 * @param agents the agents {@code POST /v1/feedback} accepts feedback on (the job's {@code
 *     signalstream.agents.enabled}, custom agents included)
 */
public record ApiOptions(
        String bootstrapServers,
        Properties kafkaProperties,
        int port,
        TokenVerifier tokens,
        String inputTopic,
        String aggregatedTopic,
        String stateTopic,
        int viewMaxConversations,
        double postsPerSecondPerTenant,
        int maxBodyBytes,
        Duration produceTimeout,
        String alertsTopic,
        WebhookDispatcher.Settings webhooks,
        String webhookGroup,
        Duration webhookMaxAge,
        List<String> agents) {

    /** Default bound of the view, in conversations. */
    public static final int DEFAULT_VIEW_MAX_CONVERSATIONS = 100_000;

    public ApiOptions {
        Objects.requireNonNull(bootstrapServers, "bootstrapServers");
        Objects.requireNonNull(tokens, "tokens");
        kafkaProperties = kafkaProperties == null ? new Properties() : kafkaProperties;
        webhooks = webhooks == null ? WebhookDispatcher.Settings.none() : webhooks;
        agents = agents == null ? AgentOptions.BUILT_IN_AGENTS : List.copyOf(agents);
    }

    /**
     * The defaults: the job's default topic names, 100,000 conversations in the view, 50 posts per
     * second per tenant, 64 KiB bodies, 10 s produce timeout, no webhooks (group {@code
     * signalstream-api-webhooks}, alerts up to 1 day old delivered).
     *
     * @param bootstrapServers Kafka bootstrap servers
     * @param port HTTP port, 0 for a free one
     * @param tokens the token verifier
     */
    public static ApiOptions defaults(String bootstrapServers, int port, TokenVerifier tokens) {
        return new ApiOptions(
                bootstrapServers,
                new Properties(),
                port,
                tokens,
                "support.messages.raw",
                "support.ai.aggregated",
                "support.conversations.state",
                DEFAULT_VIEW_MAX_CONVERSATIONS,
                50,
                64 * 1024,
                Duration.ofSeconds(10),
                "support.alerts",
                WebhookDispatcher.Settings.none(),
                "signalstream-api-webhooks",
                Duration.ofDays(1),
                AgentOptions.BUILT_IN_AGENTS);
    }

    /** These options with other Kafka client properties (e.g. security settings). */
    public ApiOptions withKafkaProperties(Properties properties) {
        return copy(properties, postsPerSecondPerTenant, webhooks, agents);
    }

    /** These options with another sustained post rate per tenant, in messages per second. */
    public ApiOptions withPostsPerSecondPerTenant(double rate) {
        return copy(kafkaProperties, rate, webhooks, agents);
    }

    /** These options with these alert webhooks. */
    public ApiOptions withWebhooks(WebhookDispatcher.Settings settings) {
        return copy(kafkaProperties, postsPerSecondPerTenant, settings, agents);
    }

    /**
     * Properties of one Kafka client of the service: the extra properties (security), the bootstrap
     * servers and a client id.
     */
    Properties kafkaClient(String clientId) {
        Properties p = new Properties();
        p.putAll(kafkaProperties);
        p.put("bootstrap.servers", bootstrapServers);
        p.put("client.id", clientId);
        return p;
    }

    /**
     * Returns a copy that accepts feedback on these agents.
     *
     * @param agents agent names, e.g. the job's {@code signalstream.agents.enabled}
     */
    public ApiOptions withAgents(List<String> agents) {
        return copy(kafkaProperties, postsPerSecondPerTenant, webhooks, agents);
    }

    /** These options with the settings the {@code with*} methods change replaced. */
    private ApiOptions copy(
            Properties kafkaProperties,
            double postsPerSecondPerTenant,
            WebhookDispatcher.Settings webhooks,
            List<String> agents) {
        return new ApiOptions(
                bootstrapServers,
                kafkaProperties,
                port,
                tokens,
                inputTopic,
                aggregatedTopic,
                stateTopic,
                viewMaxConversations,
                postsPerSecondPerTenant,
                maxBodyBytes,
                produceTimeout,
                alertsTopic,
                webhooks,
                webhookGroup,
                webhookMaxAge,
                agents);
    }
}
