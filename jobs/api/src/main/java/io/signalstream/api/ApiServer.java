package io.signalstream.api;

import io.signalstream.events.ConversationKeys;
import io.signalstream.events.Feedback;
import io.signalstream.events.RawRecord;
import io.signalstream.serde.ChatMessageParser;
import io.signalstream.serde.FeedbackParser;
import io.signalstream.serde.Json;
import io.signalstream.serde.MessageValidationException;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.github.bucket4j.Bandwidth;
import io.github.bucket4j.Bucket;
import io.github.bucket4j.ConsumptionProbe;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import io.javalin.http.UnauthorizedResponse;
import io.javalin.http.staticfiles.Location;
import io.javalin.websocket.WsConfig;
import io.javalin.websocket.WsContext;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.eclipse.jetty.websocket.api.WriteCallback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * The API service (a small HTTP service beside the job, not a Flink job): Javalin on {@link
 * ApiOptions#port()}, an idempotent producer into the input topic, and the {@link ConversationView}
 * of the aggregated topic.
 *
 * <ul>
 *   <li>{@code GET /} the live dashboard (static files under {@code /dashboard/});
 *   <li>{@code POST /v1/messages}: validated by the job's own parser, produced keyed {@code
 *       tenant:conversation}, 202 once the broker acknowledged it;
 *   <li>{@code POST /v1/feedback}: a correction of an agent answer ({@link FeedbackParser}),
 *       produced keyed {@code tenant:conversation} to {@value #FEEDBACK_TOPIC}, 202 once
 *       acknowledged; the job turns it into a learning signal;
 *   <li>{@code GET /v1/conversations[?sentiment=&urgency=&pii=&limit=]}, {@code GET
 *       /v1/conversations/{id}/insights};
 *   <li>WebSocket {@code /v1/stream} and {@code /v1/conversations/{id}/stream}: each new version as
 *       {@code {"type":"intelligence_update","data":{…}}}; {@code /v1/stream} also pushes each new
 *       alert of the tenant as {@code {"type":"alert","alert":{…}}};
 *   <li>{@code GET /v1/alerts[?since=<ISO instant>&limit=]}: the tenant's alerts raised since then
 *       (oldest first); {@code GET /v1/alerts/deliveries}: its webhook's failed deliveries (see
 *       {@link WebhookDispatcher}, {@link AlertFeed});
 *   <li>{@code GET /health}, {@code GET /ready} (Kafka answers and the view caught up), {@code GET
 *       /metrics} (Prometheus).
 * </ul>
 *
 * <p>Every {@code /v1} call needs a JWT ({@code Authorization: Bearer}, or {@code ?access_token=}
 * on a WebSocket upgrade only); the tenant is its {@code tenant_id}. A caller never sees another
 * tenant's data: other tenants' conversations are 404, a body naming another tenant is 403. Errors
 * are JSON {@code {"error", "reason"}}, never a stack trace.
 */
public final class ApiServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ApiServer.class);

    private static final String TENANT = "signalstream.tenant";
    private static final String STARTED = "signalstream.started";
    private static final String DASHBOARD = "/io/signalstream/api/dashboard";
    private static final int MAX_LIMIT = 1000;

    private final ApiOptions options;
    private final ChatMessageParser parser = ChatMessageParser.withDefaults();

    /** Where {@code POST /v1/feedback} writes: the job's default feedback topic. */
    public static final String FEEDBACK_TOPIC = "support.feedback";

    private final FeedbackParser feedbackParser;
    private final KafkaProducer<byte[], byte[]> producer;
    private final ConversationView view;
    private final WebhookDispatcher webhooks;
    private final AlertFeed alerts;
    private final Admin admin;
    private volatile long kafkaCheckedAt;
    private volatile String kafkaProblem = "not checked yet";
    private final PrometheusMeterRegistry metrics =
            new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Cache<String, Bucket> rateLimits =
            Caffeine.newBuilder().maximumSize(100_000).build();
    private final Map<String, Set<Subscriber>> streams = new ConcurrentHashMap<>();
    private final AtomicInteger connected = new AtomicInteger();
    private final ScheduledExecutorService expiries;
    private final Counter accepted;
    private final Counter refused;
    private final Counter feedbackAccepted;
    private final Javalin app;

    /** Frames a WebSocket client may have queued before it counts as too slow and is closed. */
    static final int MAX_PENDING_FRAMES = 256;

    /**
     * A WebSocket client: its tenant, for a per-conversation stream its conversation, and its
     * outbox. Frames go out in order, one at a time, with Jetty's non-blocking send; a client that
     * lets {@value #MAX_PENDING_FRAMES} frames pile up is closed (1008), so a slow reader never
     * holds a thread or delays anyone else.
     */
    private final class Subscriber implements WriteCallback {
        final WsContext ctx;
        final String tenant;
        final String conversationId;
        private final java.util.ArrayDeque<String> pending = new java.util.ArrayDeque<>();
        private boolean sending;
        private boolean closed;
        volatile java.util.concurrent.ScheduledFuture<?> expiry;

        Subscriber(WsContext ctx, String tenant, String conversationId) {
            this.ctx = ctx;
            this.tenant = tenant;
            this.conversationId = conversationId;
        }

        void offer(String text) {
            String next;
            synchronized (this) {
                if (closed) {
                    return;
                }
                if (sending) {
                    if (pending.size() >= MAX_PENDING_FRAMES) {
                        closed = true;
                        pending.clear();
                        next = null;
                    } else {
                        pending.add(text);
                        return;
                    }
                } else {
                    sending = true;
                    next = text;
                }
            }
            if (next == null) {
                close(1008, "too slow");
            } else {
                send(next);
            }
        }

        private void send(String text) {
            try {
                ctx.session.getRemote().sendString(text, this);
            } catch (RuntimeException e) {
                writeFailed(e);
            }
        }

        @Override
        public void writeSuccess() {
            String next;
            synchronized (this) {
                next = pending.poll();
                if (next == null) {
                    sending = false;
                    return;
                }
            }
            send(next);
        }

        @Override
        public void writeFailed(Throwable error) {
            synchronized (this) {
                closed = true;
                pending.clear();
            }
            unsubscribe(this);
        }

        void close(int code, String reason) {
            synchronized (this) {
                closed = true;
                pending.clear();
            }
            unsubscribe(this);
            try {
                ctx.closeSession(code, reason);
            } catch (RuntimeException e) {
                LOG.debug("closing a stream", e);
            }
        }
    }

    private ApiServer(ApiOptions options) {
        this.options = options;
        this.feedbackParser = new FeedbackParser(options.agents(), 128, Duration.ofDays(1));
        Properties p = options.kafkaClient("signalstream-api");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.LINGER_MS_CONFIG, "1");
        // A post waits at most produceTimeout, also for metadata when Kafka is down, and a
        // record the API gave up on is not delivered later behind the client's back.
        long timeoutMs = options.produceTimeout().toMillis();
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, String.valueOf(timeoutMs));
        p.put(
                ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG,
                String.valueOf(Math.max(1000, timeoutMs / 2)));
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, String.valueOf(Math.max(2001, timeoutMs)));
        this.producer =
                new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
        ScheduledThreadPoolExecutor timer =
                new ScheduledThreadPoolExecutor(
                        1,
                        r -> {
                            Thread t = new Thread(r, "signalstream-api-stream-expiry");
                            t.setDaemon(true);
                            return t;
                        });
        timer.setRemoveOnCancelPolicy(true);
        this.expiries = timer;
        this.view = new ConversationView(options, this::broadcast);
        this.webhooks = new WebhookDispatcher(options.webhooks(), metrics);
        this.alerts = new AlertFeed(options, this::broadcastAlert, webhooks);
        this.admin = Admin.create(options.kafkaClient("signalstream-api-ready"));
        this.accepted = metrics.counter("signalstream_api_messages_accepted");
        this.refused = metrics.counter("signalstream_api_messages_rate_limited");
        this.feedbackAccepted = metrics.counter("signalstream_api_feedback_accepted");
        Gauge.builder("signalstream_api_streams_connected", connected, AtomicInteger::get)
                .register(metrics);
        Gauge.builder("signalstream_api_view_lag_records", view, ConversationView::lag)
                .register(metrics);
        Gauge.builder("signalstream_api_view_conversations", view, ConversationView::size)
                .register(metrics);
        Gauge.builder("signalstream_api_view_ready", view, v -> v.ready() ? 1 : 0)
                .register(metrics);
        this.app =
                Javalin.create(
                        config -> {
                            config.showJavalinBanner = false;
                            config.http.maxRequestSize = options.maxBodyBytes();
                            config.staticFiles.add(
                                    s -> {
                                        s.hostedPath = "/dashboard";
                                        s.directory = DASHBOARD;
                                        s.location = Location.CLASSPATH;
                                    });
                        });
        routes();
    }

    /**
     * Starts the service; returns once it listens (the view may still be catching up: see {@code
     * /ready}).
     *
     * @throws IllegalStateException when the port is taken
     */
    public static ApiServer start(ApiOptions options) {
        ApiServer server = new ApiServer(options);
        try {
            server.view.start();
            server.alerts.start();
            server.app.start(options.port());
        } catch (RuntimeException e) {
            server.close();
            throw new IllegalStateException(
                    "cannot start the API on port " + options.port() + ": " + e.getMessage(), e);
        }
        LOG.info("API listening on port {}", server.port());
        return server;
    }

    /**
     * Starts the service, hands it to {@code started}, and serves until the JVM is asked to stop
     * (SIGTERM, Ctrl-C). The shutdown waits (at most 20 s) until the service has closed, so
     * requests in flight finish and acknowledged messages are flushed.
     *
     * @throws IllegalStateException when the service cannot start
     * @throws InterruptedException when the waiting thread is interrupted
     */
    public static void serveUntilShutdown(
            ApiOptions options, java.util.function.Consumer<ApiServer> started)
            throws InterruptedException {
        java.util.concurrent.CountDownLatch stop = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch closed = new java.util.concurrent.CountDownLatch(1);
        Runtime.getRuntime()
                .addShutdownHook(
                        new Thread(
                                () -> {
                                    stop.countDown();
                                    try {
                                        closed.await(20, TimeUnit.SECONDS);
                                    } catch (InterruptedException e) {
                                        Thread.currentThread().interrupt();
                                    }
                                },
                                "signalstream-api-shutdown"));
        try (ApiServer server = start(options)) {
            started.accept(server);
            stop.await();
        } finally {
            closed.countDown();
        }
    }

    /** The port it listens on. */
    public int port() {
        return app.port();
    }

    /** {@code http://127.0.0.1:<port>}. */
    public String url() {
        return "http://127.0.0.1:" + port();
    }

    /** Whether the view has caught up with the topics' end offsets seen at start. */
    public boolean ready() {
        return view.ready();
    }

    private void routes() {
        app.before(ctx -> ctx.attribute(STARTED, System.nanoTime()));
        app.after(this::record);
        app.before("/v1/*", ctx -> ctx.attribute(TENANT, authenticate(ctx)));
        app.wsBeforeUpgrade("/v1/*", ctx -> authenticate(ctx));
        app.exception(
                HttpResponseException.class,
                (e, ctx) -> error(ctx, e.getStatus(), errorCode(e.getStatus()), e.getMessage()));
        app.exception(
                Exception.class,
                (e, ctx) -> {
                    LOG.error("{} {} failed", ctx.method(), ctx.path(), e);
                    error(ctx, 500, "internal", "internal error");
                });
        app.error(
                404,
                ctx -> {
                    if (!String.valueOf(ctx.res().getContentType())
                            .startsWith("application/json")) {
                        error(ctx, 404, "not_found", "no such resource: " + ctx.path());
                    }
                });

        app.get("/", ctx -> ctx.contentType("text/html; charset=utf-8").result(dashboard()));
        app.get(
                "/health",
                ctx -> {
                    if (view.failed()) {
                        json(ctx, 503, Map.of("status", "down", "reason", "the view stopped"));
                    } else {
                        json(ctx, 200, Map.of("status", "up"));
                    }
                });
        app.get(
                "/ready",
                ctx -> {
                    String kafka = kafkaProblem();
                    if (kafka != null) {
                        json(ctx, 503, Map.of("status", "kafka_unreachable", "reason", kafka));
                    } else if (!view.ready()) {
                        json(ctx, 503, Map.of("status", "catching_up", "lag", view.lag()));
                    } else {
                        json(ctx, 200, Map.of("status", "ready", "lag", view.lag()));
                    }
                });
        app.get(
                "/metrics",
                ctx ->
                        ctx.contentType("text/plain; version=0.0.4; charset=utf-8")
                                .result(metrics.scrape()));
        app.post("/v1/messages", this::postMessage);
        app.post("/v1/feedback", this::postFeedback);
        app.get("/v1/conversations", this::listConversations);
        app.get("/v1/conversations/{conversation_id}/insights", this::insights);
        app.get("/v1/alerts", this::listAlerts);
        app.get("/v1/alerts/deliveries", this::deliveries);
        app.ws("/v1/stream", ws -> stream(ws, false));
        app.ws("/v1/conversations/{conversation_id}/stream", ws -> stream(ws, true));
    }

    /**
     * Why Kafka is not reachable, or null when it answered: one {@code describeCluster} (2 s
     * timeout) at most every 2 s, so readiness probes cannot hammer the brokers.
     */
    private String kafkaProblem() {
        long now = System.nanoTime();
        if (now - kafkaCheckedAt > 2_000_000_000L) {
            synchronized (admin) {
                if (now - kafkaCheckedAt > 2_000_000_000L) {
                    try {
                        admin.describeCluster(new DescribeClusterOptions().timeoutMs(2000))
                                .clusterId()
                                .get(3, TimeUnit.SECONDS);
                        kafkaProblem = null;
                    } catch (ExecutionException | TimeoutException e) {
                        kafkaProblem = "Kafka at " + options.bootstrapServers() + " did not answer";
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        kafkaProblem = "interrupted";
                    }
                    kafkaCheckedAt = System.nanoTime();
                }
            }
        }
        return kafkaProblem;
    }

    /**
     * The request's token: the {@code Authorization: Bearer} header, or, only on a WebSocket
     * upgrade (where a browser cannot send a header), {@code ?access_token=}. An HTTP call with the
     * token in its URL is refused, so tokens do not end up in access logs.
     */
    private static String token(
            String authorization, boolean upgrade, java.util.function.Supplier<String> query) {
        if (authorization != null && authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return authorization.substring(7).trim();
        }
        return upgrade ? query.get() : null;
    }

    private String authenticate(Context ctx) {
        String token =
                token(
                        ctx.header("Authorization"),
                        "websocket".equalsIgnoreCase(ctx.header("Upgrade")),
                        () -> ctx.queryParam("access_token"));
        try {
            return options.tokens().tenantOf(token);
        } catch (TokenVerifier.InvalidTokenException e) {
            throw new UnauthorizedResponse(e.getMessage());
        }
    }

    private void postMessage(Context ctx) {
        String tenant = ctx.attribute(TENANT);
        if (!withinRateLimit(
                ctx,
                tenant,
                "over "
                        + options.postsPerSecondPerTenant()
                        + " messages per second for this tenant")) {
            return;
        }
        Instant now = Instant.now();
        ObjectNode msg =
                tenantBody(
                        ctx,
                        tenant,
                        "message_id",
                        now,
                        "request body over " + options.maxBodyBytes() + " bytes");
        if (msg == null) {
            return;
        }
        String conversation = msg.path("conversation_id").asText("");
        byte[] key = ConversationKeys.of(tenant, conversation).getBytes(StandardCharsets.UTF_8);
        byte[] value = Json.toBytes(msg);
        try {
            parser.parse(
                    new RawRecord(options.inputTopic(), 0, 0, now.toEpochMilli(), key, value), now);
        } catch (MessageValidationException e) {
            error(ctx, 400, e.errorType(), e.getMessage());
            return;
        }
        String messageId = msg.get("message_id").asText();
        if (!produced(
                new ProducerRecord<>(options.inputTopic(), key, value),
                "Kafka did not acknowledge the message",
                reason -> unavailable(ctx, messageId, reason))) {
            return;
        }
        accepted.increment();
        json(
                ctx,
                202,
                Map.of(
                        "message_id",
                        msg.get("message_id").asText(),
                        "conversation_id",
                        conversation));
    }

    /**
     * {@code POST /v1/feedback}: the caller's tenant (a body naming another is 403), a {@code
     * feedback_id} (a UUID when absent; a retry with the same id counts once) and the {@code
     * timestamp} (now when absent) are filled in, the record is validated as the job validates it
     * (400 with the rule's {@code error} code), produced and acknowledged (202), or 503 naming the
     * {@code feedback_id} to retry with. Shares the tenant's rate limit with messages.
     */
    private void postFeedback(Context ctx) {
        String tenant = ctx.attribute(TENANT);
        if (!withinRateLimit(ctx, tenant, "over the posts per second of this tenant")) {
            return;
        }
        Instant now = Instant.now();
        ObjectNode fb =
                tenantBody(
                        ctx,
                        tenant,
                        "feedback_id",
                        now,
                        "request body over " + options.maxBodyBytes());
        if (fb == null) {
            return;
        }
        Feedback feedback;
        try {
            feedback = feedbackParser.parse(fb, now, now, null);
        } catch (MessageValidationException e) {
            error(ctx, 400, e.errorType(), e.getMessage());
            return;
        }
        byte[] key = feedback.conversationKey().getBytes(StandardCharsets.UTF_8);
        if (!produced(
                new ProducerRecord<>(FEEDBACK_TOPIC, key, Json.toBytes(fb)),
                "Kafka did not acknowledge the feedback",
                reason -> feedbackUnavailable(ctx, feedback.feedbackId()))) {
            return;
        }
        feedbackAccepted.increment();
        json(
                ctx,
                202,
                Map.of(
                        "feedback_id",
                        feedback.feedbackId(),
                        "conversation_id",
                        feedback.conversationId()));
    }

    /**
     * Takes one post from the tenant's rate limit; when it is spent, answers 429 with {@code
     * Retry-After} (whole seconds, at least 1) and {@code reason}, and returns false.
     */
    private boolean withinRateLimit(Context ctx, String tenant, String reason) {
        ConsumptionProbe probe = bucket(tenant).tryConsumeAndReturnRemaining(1);
        if (probe.isConsumed()) {
            return true;
        }
        refused.increment();
        long seconds =
                Math.max(
                        1,
                        TimeUnit.NANOSECONDS.toSeconds(
                                probe.getNanosToWaitForRefill() + 999_999_999L));
        ctx.header("Retry-After", String.valueOf(seconds));
        error(ctx, 429, "rate_limited", reason);
        return false;
    }

    /**
     * Reads a POST body as a JSON object of the caller's tenant and fills in what the caller may
     * leave out: {@code tenant_id}, {@code idField} (a random UUID) and {@code timestamp} ({@code
     * now}). Answers 413 ({@code tooLargeReason}) over {@code maxBodyBytes}, 400 {@code
     * malformed_json} / {@code not_an_object}, or 403 when the body names another tenant, and then
     * returns {@code null}.
     */
    private ObjectNode tenantBody(
            Context ctx, String tenant, String idField, Instant now, String tooLargeReason) {
        JsonNode body;
        try {
            byte[] bytes = ctx.req().getInputStream().readNBytes(options.maxBodyBytes() + 1);
            if (bytes.length > options.maxBodyBytes()) {
                error(ctx, 413, "too_large", tooLargeReason);
                return null;
            }
            body = Json.MAPPER.readTree(bytes);
        } catch (IOException e) {
            error(ctx, 400, "malformed_json", "the body is not valid JSON");
            return null;
        }
        if (!(body instanceof ObjectNode object)) {
            error(ctx, 400, "not_an_object", "the body must be a JSON object");
            return null;
        }
        JsonNode claimed = object.get("tenant_id");
        if (claimed != null && !claimed.isNull() && !tenant.equals(claimed.asText())) {
            error(ctx, 403, "forbidden", "tenant_id differs from the token's tenant");
            return null;
        }
        object.put("tenant_id", tenant);
        if (!object.hasNonNull(idField)) {
            object.put(idField, UUID.randomUUID().toString());
        }
        if (!object.hasNonNull("timestamp")) {
            object.put("timestamp", now.toString());
        }
        return object;
    }

    /**
     * Produces a record and waits for Kafka's acknowledgement up to {@code produceTimeout}. On
     * failure calls {@code unavailable} with {@code nackReason} (or {@code "interrupted"}) and
     * returns false.
     */
    private boolean produced(
            ProducerRecord<byte[], byte[]> record,
            String nackReason,
            Consumer<String> unavailable) {
        try {
            producer.send(record).get(options.produceTimeout().toMillis(), TimeUnit.MILLISECONDS);
            return true;
        } catch (TimeoutException | ExecutionException | KafkaException e) {
            unavailable.accept(nackReason);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            unavailable.accept("interrupted");
        }
        return false;
    }

    private static void feedbackUnavailable(Context ctx, String feedbackId) {
        json(
                ctx,
                503,
                Map.of(
                        "error",
                        "unavailable",
                        "reason",
                        "Kafka did not acknowledge the feedback; retry with the same feedback_id",
                        "feedback_id",
                        feedbackId));
    }

    private Bucket bucket(String tenant) {
        return rateLimits.get(
                tenant,
                t -> {
                    long perSecond = Math.max(1, Math.round(options.postsPerSecondPerTenant()));
                    return Bucket.builder()
                            .addLimit(
                                    Bandwidth.builder()
                                            .capacity(perSecond)
                                            .refillGreedy(perSecond, Duration.ofSeconds(1))
                                            .build())
                            .build();
                });
    }

    private void listConversations(Context ctx) {
        String tenant = ctx.attribute(TENANT);
        int limit = limit(ctx, 50);
        if (limit < 1) {
            return;
        }
        Predicate<ObjectNode> filter = a -> true;
        String sentiment = ctx.queryParam("sentiment");
        if (sentiment != null && !sentiment.isBlank()) {
            filter =
                    filter.and(
                            a ->
                                    sentiment.equalsIgnoreCase(
                                            a.path("sentiment").path("label").asText()));
        }
        String urgency = ctx.queryParam("urgency");
        if (urgency != null && !urgency.isBlank()) {
            filter =
                    filter.and(
                            a ->
                                    urgency.equalsIgnoreCase(
                                            a.path("insights").path("urgency").asText()));
        }
        String pii = ctx.queryParam("pii");
        if (pii != null && !pii.isBlank()) {
            if (!pii.equals("true") && !pii.equals("false")) {
                error(ctx, 400, "invalid_parameter", "pii must be true or false");
                return;
            }
            boolean want = pii.equals("true");
            filter = filter.and(a -> a.path("pii").path("has_pii").asBoolean(false) == want);
        }
        listed(ctx, "conversations", view.list(tenant, filter, limit));
    }

    /**
     * The {@code limit} query parameter ({@code defaultLimit} when absent), at most {@link
     * #MAX_LIMIT}; when it is not a whole number of at least 1, answers 400 {@code
     * invalid_parameter} and returns 0.
     */
    private static int limit(Context ctx, int defaultLimit) {
        int limit;
        try {
            limit =
                    Math.min(
                            MAX_LIMIT,
                            Integer.parseInt(
                                    ctx.queryParamAsClass("limit", String.class)
                                            .getOrDefault(String.valueOf(defaultLimit))));
        } catch (NumberFormatException e) {
            error(ctx, 400, "invalid_parameter", "limit must be a whole number");
            return 0;
        }
        if (limit < 1) {
            error(ctx, 400, "invalid_parameter", "limit must be at least 1");
            return 0;
        }
        return limit;
    }

    /** Answers 200 with {@code {"<name>": [...], "count": n}}. */
    private static void listed(Context ctx, String name, List<ObjectNode> found) {
        ObjectNode out = Json.MAPPER.createObjectNode();
        out.putArray(name).addAll(found);
        out.put("count", found.size());
        json(ctx, 200, out);
    }

    private void insights(Context ctx) {
        String tenant = ctx.attribute(TENANT);
        String id = ctx.pathParam("conversation_id");
        view.insights(tenant, id)
                .ifPresentOrElse(
                        a -> json(ctx, 200, a),
                        () ->
                                error(
                                        ctx,
                                        404,
                                        "not_found",
                                        "no intelligence for conversation " + id + " yet"));
    }

    private void stream(WsConfig ws, boolean oneConversation) {
        ws.onConnect(
                ctx -> {
                    TokenVerifier.Verified verified;
                    try {
                        verified = options.tokens().verify(token(ctx));
                    } catch (TokenVerifier.InvalidTokenException e) {
                        ctx.closeSession(4401, "unauthorized");
                        return;
                    }
                    String tenant = verified.tenantId();
                    ctx.enableAutomaticPings(15, TimeUnit.SECONDS);
                    Subscriber s =
                            new Subscriber(
                                    ctx,
                                    tenant,
                                    oneConversation ? ctx.pathParam("conversation_id") : null);
                    ctx.attribute("subscriber", s);
                    streams.computeIfAbsent(tenant, t -> ConcurrentHashMap.newKeySet()).add(s);
                    connected.incrementAndGet();
                    // The stream ends when its token does (4401): the client reconnects with a
                    // fresh one.
                    long untilExpiry =
                            Math.max(
                                    0,
                                    verified.expiresAt().toEpochMilli()
                                            - System.currentTimeMillis());
                    expiries.schedule(
                            () -> s.close(4401, "token expired"),
                            untilExpiry,
                            TimeUnit.MILLISECONDS);
                });
        ws.onClose(ctx -> unsubscribe(ctx.attribute("subscriber")));
        ws.onError(ctx -> unsubscribe(ctx.attribute("subscriber")));
    }

    private static String token(WsContext ctx) {
        return token(ctx.header("Authorization"), true, () -> ctx.queryParam("access_token"));
    }

    private void unsubscribe(Subscriber s) {
        if (s == null) {
            return;
        }
        java.util.concurrent.ScheduledFuture<?> expiry = s.expiry;
        if (expiry != null) {
            expiry.cancel(false);
        }
        Set<Subscriber> set = streams.get(s.tenant);
        if (set != null && set.remove(s)) {
            connected.decrementAndGet();
        }
    }

    /** Pushes an alert to the tenant's {@code /v1/stream} clients (not per-conversation ones). */
    private void broadcastAlert(ObjectNode alert) {
        Set<Subscriber> set = streams.get(alert.path("tenant_id").asText(""));
        if (set == null || set.isEmpty()) {
            return;
        }
        ObjectNode frame = Json.MAPPER.createObjectNode();
        frame.put("type", "alert");
        frame.set("alert", alert);
        String text = Json.toString(frame);
        for (Subscriber s : set) {
            if (s.conversationId == null) {
                s.offer(text);
            }
        }
    }

    private void listAlerts(Context ctx) {
        String tenant = ctx.attribute(TENANT);
        Instant since = Instant.EPOCH;
        String sinceParam = ctx.queryParam("since");
        if (sinceParam != null && !sinceParam.isBlank()) {
            try {
                since = Instant.parse(sinceParam);
            } catch (java.time.format.DateTimeParseException e) {
                error(
                        ctx,
                        400,
                        "invalid_parameter",
                        "since must be an ISO-8601 instant, e.g. 2024-05-01T10:00:00Z");
                return;
            }
        }
        int limit = limit(ctx, 100);
        if (limit < 1) {
            return;
        }
        listed(ctx, "alerts", alerts.since(tenant, since, limit));
    }

    private void deliveries(Context ctx) {
        String tenant = ctx.attribute(TENANT);
        ObjectNode out = Json.MAPPER.createObjectNode();
        out.put("webhook", webhooks.hasWebhook(tenant));
        out.put("pending", webhooks.pending(tenant));
        out.set("failures", Json.MAPPER.valueToTree(webhooks.failures(tenant)));
        json(ctx, 200, out);
    }

    private void broadcast(ConversationView.Entry e) {
        Set<Subscriber> set = streams.get(e.tenantId());
        if (set == null || set.isEmpty()) {
            return;
        }
        ObjectNode frame = Json.MAPPER.createObjectNode();
        frame.put("type", "intelligence_update");
        frame.set("data", e.aggregated());
        String text = Json.toString(frame);
        for (Subscriber s : set) {
            if (s.conversationId == null || s.conversationId.equals(e.conversationId())) {
                s.offer(text);
            }
        }
    }

    private void record(Context ctx) {
        Long started = ctx.attribute(STARTED);
        if (started == null) {
            return;
        }
        String route = ctx.endpointHandlerPath();
        Timer.builder("signalstream_api_requests")
                .tag("method", ctx.method().name())
                .tag("route", route == null || route.isEmpty() ? "unmatched" : route)
                .tag("status", String.valueOf(ctx.statusCode()))
                .publishPercentiles(0.5, 0.95, 0.99)
                .register(metrics)
                .record(System.nanoTime() - started, TimeUnit.NANOSECONDS);
    }

    /**
     * 503 for a message Kafka did not acknowledge in time. It names the message id: a retry with
     * the same {@code message_id} is counted once by the job, even if the first attempt arrived.
     */
    private static void unavailable(Context ctx, String messageId, String reason) {
        json(
                ctx,
                503,
                Map.of(
                        "error",
                        "unavailable",
                        "reason",
                        reason + "; retry with the same message_id",
                        "message_id",
                        messageId));
    }

    /** The {@code error} code of an HTTP status. */
    private static String errorCode(int status) {
        return switch (status) {
            case 401 -> "unauthorized";
            case 403 -> "forbidden";
            case 404 -> "not_found";
            case 405 -> "method_not_allowed";
            case 413 -> "too_large";
            case 429 -> "rate_limited";
            default -> status >= 500 ? "internal" : "bad_request";
        };
    }

    private static void json(Context ctx, int status, Object body) {
        ctx.status(status).contentType("application/json").result(Json.toString(body));
    }

    private static void error(Context ctx, int status, String error, String reason) {
        json(ctx, status, Map.of("error", error, "reason", reason == null ? "" : reason));
    }

    private static String dashboard() throws IOException {
        try (InputStream in = ApiServer.class.getResourceAsStream(DASHBOARD + "/index.html")) {
            if (in == null) {
                return "<!doctype html><title>SignalStream</title><p>dashboard not bundled</p>";
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Override
    public void close() {
        try {
            app.stop();
        } catch (RuntimeException e) {
            LOG.debug("stopping Javalin", e);
        }
        view.close();
        alerts.close();
        webhooks.close();
        admin.close(Duration.ofSeconds(2));
        expiries.shutdownNow();
        producer.close(Duration.ofSeconds(5));
        metrics.close();
    }
}
