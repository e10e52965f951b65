package io.signalstream.api;

import io.signalstream.config.JobOptions;
import io.signalstream.jobs.ConversationIntelligenceJob;
import io.signalstream.jobs.kafka.KafkaTopics;
import io.signalstream.local.EmbeddedKafkaBroker;
import io.signalstream.local.LocalFlinkConfig;
import io.signalstream.serde.Json;

import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The API against the real job: the in-process broker, the job on a MiniCluster with the {@code
 * local} provider, and {@link ApiServer} on a free loopback port. Two tenants post messages and
 * read their insights back; every isolation case answers 401, 403 or 404; WebSocket updates reach
 * the right tenant only; a message posted while the job is down gets its insights once the job is
 * back.
 */
class ApiServerITCase {

    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER =
            new MiniClusterExtension(
                    new MiniClusterResourceConfiguration.Builder()
                            .setNumberTaskManagers(1)
                            .setNumberSlotsPerTaskManager(2)
                            .build());

    private static final byte[] SECRET =
            "api-itcase-secret-of-at-least-32-bytes!".getBytes(StandardCharsets.UTF_8);

    @TempDir static Path tmp;

    private static EmbeddedKafkaBroker broker;
    private static ApiServer api;
    private static Configuration conf;
    private static JobClient job;
    private static final HttpClient HTTP =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static final String ACME = JwtTokens.hs256Token(SECRET, "acme", Duration.ofHours(1));
    private static final String GLOBEX =
            JwtTokens.hs256Token(SECRET, "globex", Duration.ofHours(1));

    @BeforeAll
    static void start() throws Exception {
        broker = EmbeddedKafkaBroker.start(tmp.resolve("kafka"));
        conf = LocalFlinkConfig.withLocalDefaults(new Configuration(), tmp, 2);
        conf.set(CheckpointingOptions.CHECKPOINTING_INTERVAL, Duration.ofSeconds(1));
        conf.set(JobOptions.BOOTSTRAP_SERVERS, broker.bootstrapServers());
        conf.set(JobOptions.GROUP_ID, "api-itcase");
        KafkaTopics.create(
                broker.bootstrapServers(),
                new Properties(),
                KafkaTopics.layout(conf, 2, (short) 1));
        job = submitJob();
        api =
                ApiServer.start(
                        ApiOptions.defaults(broker.bootstrapServers(), 0, JwtTokens.hs256(SECRET)));
    }

    private static JobClient submitJob() throws Exception {
        return ConversationIntelligenceJob.kafka(conf, new Properties())
                .executeAsync(
                        StreamExecutionEnvironment.getExecutionEnvironment(conf), "api-itcase");
    }

    @AfterAll
    static void stop() throws Exception {
        if (api != null) {
            api.close();
        }
        if (job != null) {
            job.cancel().get(30, TimeUnit.SECONDS);
        }
        if (broker != null) {
            broker.close();
        }
    }

    @Test
    @Timeout(value = 4, unit = TimeUnit.MINUTES)
    void tenantsPostReadStreamAndStayApart() throws Exception {
        // No, bad, expired and foreign-signed tokens: 401 with a JSON reason.
        assertThat(get("/v1/conversations", null).statusCode()).isEqualTo(401);
        assertThat(get("/v1/conversations", "not-a-jwt").statusCode()).isEqualTo(401);
        String expired = JwtTokens.hs256Token(SECRET, "acme", Duration.ofMinutes(-5));
        HttpResponse<String> e = get("/v1/conversations", expired);
        assertThat(e.statusCode()).isEqualTo(401);
        assertThat(Json.MAPPER.readTree(e.body()).path("error").asText()).isEqualTo("unauthorized");
        byte[] other = "another-secret-that-is-32-bytes-long!!".getBytes(StandardCharsets.UTF_8);
        String forged = JwtTokens.hs256Token(other, "acme", Duration.ofHours(1));
        assertThat(get("/v1/conversations", forged).statusCode()).isEqualTo(401);
        // Every /v1 endpoint, read or write, refuses a missing, malformed, expired or forged token.
        for (String bad : new String[] {null, "not-a-jwt", expired, forged}) {
            for (HttpResponse<String> r :
                    List.of(
                            get("/v1/conversations", bad),
                            get("/v1/conversations/acme-1/insights", bad),
                            get("/v1/alerts", bad),
                            get("/v1/alerts/deliveries", bad),
                            post(
                                    bad,
                                    "{\"conversation_id\":\"c1\",\"sender\":\"customer\","
                                            + "\"message\":\"hi\"}"),
                            post(
                                    "/v1/feedback",
                                    bad,
                                    "{\"feedback_id\":\"f1\",\"conversation_id\":\"c1\","
                                            + "\"version\":1,\"agent\":\"sentiment\","
                                            + "\"field\":\"label\",\"expected\":\"negative\","
                                            + "\"user_id\":\"u1\"}"))) {
                assertThat(r.statusCode()).as("%s with token %s", r.uri(), bad).isEqualTo(401);
                assertThat(Json.MAPPER.readTree(r.body()).path("error").asText())
                        .isEqualTo("unauthorized");
            }
            for (String stream : List.of("/v1/stream", "/v1/conversations/acme-1/stream")) {
                assertThat(upgradeStatus(stream, bad))
                        .as("upgrade of %s with token %s", stream, bad)
                        .isEqualTo(401);
            }
        }
        assertThat(get("/health", null).statusCode()).isEqualTo(200);
        // A token in the URL of an HTTP call (not a WebSocket upgrade) is refused.
        assertThat(get("/v1/conversations?access_token=" + ACME, null).statusCode()).isEqualTo(401);

        // Bad input: 400 with the parser's reason; another tenant in the body: 403.
        HttpResponse<String> bad =
                post(ACME, "{\"conversation_id\":\"c1\",\"sender\":\"bot\",\"message\":\"hi\"}");
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(Json.MAPPER.readTree(bad.body()).path("error").asText())
                .isEqualTo("unknown_sender");
        assertThat(post(ACME, "{not json").statusCode()).isEqualTo(400);
        HttpResponse<String> huge = post(ACME, "{\"message\":\"" + "x".repeat(70_000) + "\"}");
        assertThat(huge.statusCode()).isEqualTo(413);
        assertThat(Json.MAPPER.readTree(huge.body()).path("error").asText()).isEqualTo("too_large");
        assertThat(
                        post(
                                        ACME,
                                        "{\"tenant_id\":\"globex\",\"conversation_id\":\"c1\","
                                                + "\"sender\":\"customer\",\"message\":\"hi\"}")
                                .statusCode())
                .isEqualTo(403);

        // Each tenant posts; each reads its own insights back.
        long t0 = System.nanoTime();
        HttpResponse<String> a =
                postMessage(ACME, "acme-1", "My card was charged twice, I am really angry!");
        assertThat(a.statusCode()).isEqualTo(202);
        assertThat(Json.MAPPER.readTree(a.body()).path("conversation_id").asText())
                .isEqualTo("acme-1");
        assertThat(postMessage(GLOBEX, "globex-1", "Thanks, the app works great now").statusCode())
                .isEqualTo(202);
        JsonNode acme = awaitInsights(ACME, "acme-1", 1);
        System.out.printf(
                "API: post -> insights visible in %.1f s%n", (System.nanoTime() - t0) / 1e9);
        assertThat(acme.path("tenant_id").asText()).isEqualTo("acme");
        assertThat(acme.path("sentiment").path("label").asText()).isNotEmpty();
        assertThat(acme.path("recent_messages").isArray()).isTrue();
        JsonNode globex = awaitInsights(GLOBEX, "globex-1", 1);
        assertThat(globex.path("tenant_id").asText()).isEqualTo("globex");

        // Isolation: another tenant's conversation is 404 and absent from lists.
        assertThat(get("/v1/conversations/acme-1/insights", GLOBEX).statusCode()).isEqualTo(404);
        assertThat(get("/v1/conversations/globex-1/insights", ACME).statusCode()).isEqualTo(404);
        JsonNode list = Json.MAPPER.readTree(get("/v1/conversations?limit=10", ACME).body());
        assertThat(list.path("conversations").findValuesAsText("conversation_id"))
                .contains("acme-1")
                .doesNotContain("globex-1");
        assertThat(list.path("conversations").findValuesAsText("tenant_id")).containsOnly("acme");

        // Streams: updates reach the right tenant only; no token, no upgrade.
        Frames acmeFrames = new Frames();
        Frames globexFrames = new Frames();
        WebSocket wa = connect("/v1/stream", ACME, acmeFrames);
        WebSocket wb = connect("/v1/stream", GLOBEX, globexFrames);
        Frames oneFrames = new Frames();
        WebSocket wc = connect("/v1/conversations/acme-1/stream", ACME, oneFrames);
        Frames spyFrames = new Frames();
        WebSocket spy = connect("/v1/conversations/acme-1/stream", GLOBEX, spyFrames);
        assertThat(
                        postMessage(ACME, "acme-1", "Still waiting for the refund, this is urgent")
                                .statusCode())
                .isEqualTo(202);
        JsonNode update = acmeFrames.await(f -> f.path("data").path("version").asLong() >= 2, 60);
        assertThat(update.path("type").asText()).isEqualTo("intelligence_update");
        assertThat(update.path("data").path("conversation_id").asText()).isEqualTo("acme-1");
        oneFrames.await(f -> f.path("data").path("version").asLong() >= 2, 30);
        Thread.sleep(2000);
        assertThat(globexFrames.all()).as("globex sees no acme update").isEmpty();
        assertThat(spyFrames.all())
                .as("globex on acme's conversation stream hears nothing")
                .isEmpty();
        assertThat(oneFrames.all())
                .allMatch(f -> f.path("data").path("conversation_id").asText().equals("acme-1"));
        spy.sendClose(WebSocket.NORMAL_CLOSURE, "bye");
        // Post -> visible, with the local provider: 20 new conversations, one at a time, timed
        // until GET .../insights answers and until the stream delivers (printed, not asserted).
        long[] viaGet = new long[20];
        long[] viaStream = new long[20];
        for (int i = 0; i < 20; i++) {
            String id = "acme-latency-" + i;
            long posted = System.nanoTime();
            assertThat(
                            postMessage(ACME, id, "Where is my package? Order " + i + " is late")
                                    .statusCode())
                    .isEqualTo(202);
            awaitInsights(ACME, id, 1);
            viaGet[i] = System.nanoTime() - posted;
            acmeFrames.await(f -> id.equals(f.path("data").path("conversation_id").asText()), 60);
            viaStream[i] = acmeFrames.receivedAt(id) - posted;
        }
        System.out.printf(
                "API post -> visible (local provider, 20 posts): GET insights p50 %.2f s, p95 %.2f"
                        + " s; stream p50 %.2f s, p95 %.2f s%n",
                percentile(viaGet, 50),
                percentile(viaGet, 95),
                percentile(viaStream, 50),
                percentile(viaStream, 95));

        wa.sendClose(WebSocket.NORMAL_CLOSURE, "bye");
        wb.sendClose(WebSocket.NORMAL_CLOSURE, "bye");
        wc.sendClose(WebSocket.NORMAL_CLOSURE, "bye");

        // A message posted while the job is down still gets its insights once it is back.
        job.cancel().get(60, TimeUnit.SECONDS);
        job = null;
        assertThat(postMessage(ACME, "acme-2", "Hello? Is anyone there? I need help").statusCode())
                .isEqualTo(202);
        job = submitJob();
        JsonNode later = awaitInsights(ACME, "acme-2", 1);
        assertThat(later.path("tenant_id").asText()).isEqualTo("acme");

        // Per-tenant rate limit: a second replica allowing 1 post per second per tenant answers
        // 429 with Retry-After to a burst, and other tenants still get through.
        try (ApiServer slow =
                ApiServer.start(
                        ApiOptions.defaults(broker.bootstrapServers(), 0, JwtTokens.hs256(SECRET))
                                .withPostsPerSecondPerTenant(1))) {
            // A parallel burst of 10: a 1/s bucket lets at most 2 through, however slow the
            // machine.
            List<CompletableFuture<HttpResponse<String>>> pending = new java.util.ArrayList<>();
            for (int i = 0; i < 10; i++) {
                int n = i;
                pending.add(
                        CompletableFuture.supplyAsync(
                                () -> {
                                    try {
                                        return postTo(slow, ACME, "acme-rate", "burst " + n);
                                    } catch (Exception failure) {
                                        throw new CompletionException(failure);
                                    }
                                }));
            }
            List<HttpResponse<String>> burst = new java.util.ArrayList<>();
            for (CompletableFuture<HttpResponse<String>> f : pending) {
                burst.add(f.get(60, TimeUnit.SECONDS));
            }
            assertThat(burst).anyMatch(r -> r.statusCode() == 202);
            HttpResponse<String> limited =
                    burst.stream().filter(r -> r.statusCode() == 429).findFirst().orElseThrow();
            assertThat(Long.parseLong(limited.headers().firstValue("Retry-After").orElseThrow()))
                    .isGreaterThanOrEqualTo(1);
            assertThat(Json.MAPPER.readTree(limited.body()).path("error").asText())
                    .isEqualTo("rate_limited");
            assertThat(postTo(slow, GLOBEX, "globex-rate", "not limited").statusCode())
                    .isEqualTo(202);
        }

        // Ready and metrics.
        assertThat(get("/ready", null).statusCode()).isEqualTo(200);
        String metrics = get("/metrics", null).body();
        assertThat(metrics)
                .contains("signalstream_api_requests")
                .contains("signalstream_api_messages_accepted")
                .contains("signalstream_api_view_lag_records");
    }

    private static double percentile(long[] nanos, int p) {
        long[] sorted = nanos.clone();
        java.util.Arrays.sort(sorted);
        int i = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
        return sorted[Math.max(0, i)] / 1e9;
    }

    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void alertsReachTheirTenantByGetStreamAndWebhook() throws Exception {
        java.util.List<JsonNode> hooked = new CopyOnWriteArrayList<>();
        java.util.List<String> keys = new CopyOnWriteArrayList<>();
        com.sun.net.httpserver.HttpServer receiver =
                com.sun.net.httpserver.HttpServer.create(
                        new java.net.InetSocketAddress("127.0.0.1", 0), 0);
        receiver.createContext(
                "/hook",
                ex -> {
                    keys.add(ex.getRequestHeaders().getFirst("Idempotency-Key"));
                    hooked.add(Json.MAPPER.readTree(ex.getRequestBody().readAllBytes()));
                    ex.sendResponseHeaders(204, -1);
                    ex.close();
                });
        receiver.start();
        URI hook = URI.create("http://127.0.0.1:" + receiver.getAddress().getPort() + "/hook");
        java.time.Instant since = java.time.Instant.now();
        try (ApiServer withHooks =
                ApiServer.start(
                        ApiOptions.defaults(broker.bootstrapServers(), 0, JwtTokens.hs256(SECRET))
                                .withWebhooks(
                                        WebhookDispatcher.Settings.none()
                                                .withEndpoints(
                                                        java.util.Map.of(
                                                                "acme",
                                                                new WebhookDispatcher.Endpoint(
                                                                        hook,
                                                                        WebhookDispatcher.Format
                                                                                .JSON)))))) {
            Frames acmeFrames = new Frames();
            Frames globexFrames = new Frames();
            WebSocket wa = connect("/v1/stream", ACME, acmeFrames);
            WebSocket wb = connect("/v1/stream", GLOBEX, globexFrames);
            assertThat(
                            postMessage(
                                            ACME,
                                            "acme-alert-1",
                                            "I was scammed, my account got hacked and my card was"
                                                    + " stolen")
                                    .statusCode())
                    .isEqualTo(202);

            // GET /v1/alerts?since=
            JsonNode alert = null;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (alert == null && System.nanoTime() < deadline) {
                JsonNode page = Json.MAPPER.readTree(get("/v1/alerts?since=" + since, ACME).body());
                for (JsonNode a : page.path("alerts")) {
                    if (a.path("conversation_id").asText().equals("acme-alert-1")
                            && a.path("type").asText().equals("escalation_requested")) {
                        alert = a;
                    }
                }
                Thread.sleep(200);
            }
            assertThat(alert).as("escalation alert of acme-alert-1 in GET /v1/alerts").isNotNull();
            assertThat(alert.path("tenant_id").asText()).isEqualTo("acme");
            assertThat(alert.path("version").asLong()).isEqualTo(1);
            String id = alert.path("alert_id").asText();

            // the stream: a frame of its own type
            JsonNode frame =
                    acmeFrames.await(
                            f ->
                                    "alert".equals(f.path("type").asText())
                                            && id.equals(f.path("alert").path("alert_id").asText()),
                            30);
            assertThat(frame.has("data")).isFalse();

            // the webhook: the alert itself, its id as the idempotency key
            long hookDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!keys.contains(id) && System.nanoTime() < hookDeadline) {
                Thread.sleep(100);
            }
            assertThat(keys).contains(id);
            assertThat(hooked)
                    .anySatisfy(h -> assertThat(h.path("alert_id").asText()).isEqualTo(id));
            assertThat(hooked)
                    .as("only acme has a webhook")
                    .allSatisfy(h -> assertThat(h.path("tenant_id").asText()).isEqualTo("acme"));
            HttpResponse<String> deliveries = get("/v1/alerts/deliveries", ACME);
            assertThat(deliveries.statusCode()).isEqualTo(200);

            // another tenant sees none of it
            JsonNode theirs = Json.MAPPER.readTree(get("/v1/alerts", GLOBEX).body());
            assertThat(theirs.path("alerts").findValuesAsText("tenant_id")).doesNotContain("acme");
            assertThat(globexFrames.all())
                    .noneMatch(f -> "acme".equals(f.path("alert").path("tenant_id").asText()));
            assertThat(get("/v1/alerts?since=yesterday", ACME).statusCode()).isEqualTo(400);
            assertThat(get("/v1/alerts", null).statusCode()).isEqualTo(401);
            wa.sendClose(WebSocket.NORMAL_CLOSURE, "bye");
            wb.sendClose(WebSocket.NORMAL_CLOSURE, "bye");
        } finally {
            receiver.stop(0);
        }
    }

    private static HttpResponse<String> postMessage(String token, String conversation, String text)
            throws Exception {
        return post(
                token,
                Json.toString(
                        java.util.Map.of(
                                "conversation_id",
                                conversation,
                                "sender",
                                "customer",
                                "message",
                                text,
                                "channel",
                                "chat")));
    }

    private static HttpResponse<String> postTo(
            ApiServer server, String token, String conversation, String text) throws Exception {
        String body =
                Json.toString(
                        java.util.Map.of(
                                "conversation_id",
                                conversation,
                                "sender",
                                "customer",
                                "message",
                                text));
        return HTTP.send(
                HttpRequest.newBuilder(URI.create(server.url() + "/v1/messages"))
                        .header("Content-Type", "application/json")
                        .header("Authorization", "Bearer " + token)
                        .POST(HttpRequest.BodyPublishers.ofString(body))
                        .timeout(Duration.ofSeconds(20))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static JsonNode awaitInsights(String token, String conversation, long version)
            throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (System.nanoTime() < deadline) {
            HttpResponse<String> r = get("/v1/conversations/" + conversation + "/insights", token);
            if (r.statusCode() == 200) {
                JsonNode n = Json.MAPPER.readTree(r.body());
                if (n.path("version").asLong() >= version) {
                    return n;
                }
            } else {
                assertThat(r.statusCode()).isEqualTo(404);
            }
            Thread.sleep(200);
        }
        throw new AssertionError("no insights for " + conversation + " within 90 s");
    }

    private static HttpResponse<String> get(String path, String token) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(api.url() + path)).GET();
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return HTTP.send(
                b.timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> post(String token, String body) throws Exception {
        return post("/v1/messages", token, body);
    }

    private static HttpResponse<String> post(String path, String token, String body)
            throws Exception {
        HttpRequest.Builder b =
                HttpRequest.newBuilder(URI.create(api.url() + path))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(body));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return HTTP.send(
                b.timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String ws(String path, String token) {
        return "ws://127.0.0.1:"
                + api.port()
                + path
                + (token == null ? "" : "?access_token=" + token);
    }

    /**
     * The HTTP status answering a WebSocket upgrade: 101 when it was accepted (the socket is closed
     * again), else the refusal's status. A refusal for another reason than the answer (a timeout, a
     * refused connection) fails the test.
     */
    private static int upgradeStatus(String path, String token) throws Exception {
        try {
            WebSocket ws =
                    HTTP.newWebSocketBuilder()
                            .buildAsync(URI.create(ws(path, token)), new Frames())
                            .get(10, TimeUnit.SECONDS);
            ws.sendClose(WebSocket.NORMAL_CLOSURE, "bye");
            return 101;
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof java.net.http.WebSocketHandshakeException h) {
                return h.getResponse().statusCode();
            }
            throw e;
        }
    }

    private static WebSocket connect(String path, String token, Frames frames) throws Exception {
        return HTTP.newWebSocketBuilder()
                .buildAsync(URI.create(ws(path, token)), frames)
                .get(10, TimeUnit.SECONDS);
    }

    /** Collects the text frames of one WebSocket as JSON. */
    private static final class Frames implements WebSocket.Listener {
        private final List<JsonNode> frames = new CopyOnWriteArrayList<>();
        private final java.util.Map<String, Long> firstByConversation =
                new java.util.concurrent.ConcurrentHashMap<>();
        private final StringBuilder partial = new StringBuilder();

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                try {
                    JsonNode f = Json.MAPPER.readTree(partial.toString());
                    firstByConversation.putIfAbsent(
                            f.path("data").path("conversation_id").asText(), System.nanoTime());
                    frames.add(f);
                } catch (Exception e) {
                    throw new CompletionException(e);
                }
                partial.setLength(0);
            }
            ws.request(1);
            return CompletableFuture.completedFuture(null);
        }

        /** When the first frame of a conversation arrived ({@link System#nanoTime()}). */
        long receivedAt(String conversationId) {
            return firstByConversation.get(conversationId);
        }

        List<JsonNode> all() {
            return frames;
        }

        JsonNode await(java.util.function.Predicate<JsonNode> match, int seconds)
                throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
            while (System.nanoTime() < deadline) {
                for (JsonNode f : frames) {
                    if (match.test(f)) {
                        return f;
                    }
                }
                Thread.sleep(100);
            }
            throw new AssertionError("no matching frame within " + seconds + " s: " + frames);
        }
    }
}
