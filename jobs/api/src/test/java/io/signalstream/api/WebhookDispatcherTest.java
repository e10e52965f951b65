package io.signalstream.api;

import io.signalstream.serde.Json;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Webhook delivery against a loopback HTTP receiver (127.0.0.1) that fails on purpose. */
class WebhookDispatcherTest {

    /** One request the receiver got. */
    record Request(String path, String idempotencyKey, JsonNode body, int answered) {}

    private HttpServer server;
    private ExecutorService serverThreads;
    private final List<Request> requests = new CopyOnWriteArrayList<>();

    /** Keys the receiver stored (a request it processed, whatever it answered). */
    private final Set<String> stored = ConcurrentHashMap.newKeySet();

    private final Random random = new Random(42);
    private final AtomicInteger failedOnPurpose = new AtomicInteger();
    private WebhookDispatcher dispatcher;

    @BeforeEach
    void startReceiver() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        serverThreads = Executors.newCachedThreadPool();
        server.setExecutor(serverThreads);
        // 30% of the requests fail: half before storing (the alert is lost), half after
        // (stored, but the sender sees a failure and sends it again: a duplicate).
        server.createContext(
                "/flaky",
                ex -> {
                    String key = ex.getRequestHeaders().getFirst("Idempotency-Key");
                    JsonNode body = Json.MAPPER.readTree(ex.getRequestBody().readAllBytes());
                    double r;
                    synchronized (random) {
                        r = random.nextDouble();
                    }
                    int status = 200;
                    if (r < 0.15) {
                        status = 503;
                    } else if (r < 0.30) {
                        stored.add(key);
                        status = 500;
                    } else {
                        stored.add(key);
                    }
                    if (status != 200) {
                        failedOnPurpose.incrementAndGet();
                    }
                    requests.add(new Request("/flaky", key, body, status));
                    answer(ex, status);
                });
        server.createContext(
                "/ok",
                ex -> {
                    String key = ex.getRequestHeaders().getFirst("Idempotency-Key");
                    JsonNode body = Json.MAPPER.readTree(ex.getRequestBody().readAllBytes());
                    stored.add(key);
                    requests.add(new Request("/ok", key, body, 200));
                    answer(ex, 200);
                });
        // A receiver that is down in the worst way: it accepts and never answers in time.
        server.createContext(
                "/hangs",
                ex -> {
                    requests.add(
                            new Request(
                                    "/hangs",
                                    ex.getRequestHeaders().getFirst("Idempotency-Key"),
                                    null,
                                    0));
                    try {
                        Thread.sleep(30_000);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    answer(ex, 200);
                });
        server.createContext("/gone", ex -> answer(ex, 404));
        // Busy once: 429 with Retry-After: 1 (second), then 200.
        AtomicInteger busy = new AtomicInteger();
        server.createContext(
                "/busy",
                ex -> {
                    String key = ex.getRequestHeaders().getFirst("Idempotency-Key");
                    ex.getRequestBody().readAllBytes();
                    int status = busy.getAndIncrement() == 0 ? 429 : 200;
                    requests.add(new Request("/busy", key, null, status));
                    if (status == 429) {
                        ex.getResponseHeaders().add("Retry-After", "1");
                    } else {
                        stored.add(key);
                    }
                    answer(ex, status);
                });
        server.start();
    }

    @AfterEach
    void stop() {
        if (dispatcher != null) {
            dispatcher.close();
        }
        server.stop(0);
        serverThreads.shutdownNow();
    }

    private static void answer(HttpExchange ex, int status) throws IOException {
        byte[] b = "{}".getBytes(StandardCharsets.UTF_8);
        try {
            ex.sendResponseHeaders(status, b.length);
            ex.getResponseBody().write(b);
        } catch (IOException e) {
            // the client gave up (timeout)
        } finally {
            ex.close();
        }
    }

    private URI url(String path) {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + path);
    }

    private static ObjectNode alert(String tenant, int n) {
        ObjectNode a = Json.MAPPER.createObjectNode();
        a.put("alert_id", tenant + "-alert-" + n);
        a.put("tenant_id", tenant);
        a.put("conversation_id", "c-" + (n % 7));
        a.put("version", n);
        a.put("type", "escalation_requested");
        a.put("severity", "warning");
        a.put("reason", "escalation requested (intent complaint)");
        a.putObject("evidence").putArray("message_ids").add("m" + n);
        a.put("created_at", "2024-05-01T10:00:00Z");
        return a;
    }

    private WebhookDispatcher dispatcher(
            Map<String, WebhookDispatcher.Endpoint> endpoints,
            int attempts,
            Duration initial,
            Duration max,
            Duration timeout) {
        return new WebhookDispatcher(
                WebhookDispatcher.Settings.none()
                        .withEndpoints(endpoints)
                        .withRetries(attempts, initial, max, timeout),
                new SimpleMeterRegistry());
    }

    @Test
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void everyAlertReachesAFlakyReceiverAndDuplicatesShareTheirKey() throws Exception {
        dispatcher =
                dispatcher(
                        Map.of(
                                "acme",
                                new WebhookDispatcher.Endpoint(
                                        url("/flaky"), WebhookDispatcher.Format.JSON)),
                        30,
                        Duration.ofMillis(5),
                        Duration.ofMillis(50),
                        Duration.ofSeconds(5));
        int n = 300;
        CountDownLatch done = new CountDownLatch(n);
        Set<String> ids = new HashSet<>();
        for (int i = 0; i < n; i++) {
            ObjectNode a = alert("acme", i);
            ids.add(a.get("alert_id").asText());
            dispatcher.submit(a, done::countDown);
        }
        assertThat(done.await(80, TimeUnit.SECONDS)).as("every delivery finished").isTrue();

        assertThat(dispatcher.failures("acme")).as("no delivery failed for good").isEmpty();
        assertThat(stored).as("every alert stored by the receiver").isEqualTo(ids);
        // each request carries the alert it delivers as its idempotency key
        assertThat(requests)
                .allSatisfy(
                        r ->
                                assertThat(r.idempotencyKey())
                                        .isEqualTo(r.body().path("alert_id").asText()));
        long duplicates =
                requests.stream().filter(r -> r.answered() == 200 || r.answered() == 500).count()
                        - ids.size();
        assertThat(failedOnPurpose.get()).as("the receiver failed requests").isGreaterThan(50);
        assertThat(duplicates).as("some alerts were stored twice (same key)").isPositive();
        System.out.printf(
                "webhook, receiver failing 30%%: %d alerts, %d requests, %d failed on purpose, %d"
                        + " stored twice (same key), 0 lost%n",
                n, requests.size(), failedOnPurpose.get(), duplicates);
    }

    @Test
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void aTenantWhoseWebhookHangsDoesNotDelayAnother() throws Exception {
        dispatcher =
                dispatcher(
                        Map.of(
                                "down",
                                new WebhookDispatcher.Endpoint(
                                        url("/hangs"), WebhookDispatcher.Format.JSON),
                                "up",
                                new WebhookDispatcher.Endpoint(
                                        url("/ok"), WebhookDispatcher.Format.SLACK)),
                        2,
                        Duration.ofMillis(50),
                        Duration.ofMillis(100),
                        Duration.ofSeconds(5));
        // down's first alert can be given up after 2 timeouts of 5 s at the earliest
        CountDownLatch downDone = new CountDownLatch(2);
        for (int i = 0; i < 2; i++) {
            dispatcher.submit(alert("down", i), downDone::countDown);
        }
        CountDownLatch upDone = new CountDownLatch(50);
        for (int i = 0; i < 50; i++) {
            dispatcher.submit(alert("up", i), upDone::countDown);
        }
        assertThat(upDone.await(30, TimeUnit.SECONDS)).isTrue();
        // every one of up's alerts was delivered before down's first one was given up
        assertThat(dispatcher.failures("down")).isEmpty();
        assertThat(dispatcher.pending("down")).isEqualTo(2);
        List<Request> up = new ArrayList<>();
        requests.forEach(
                r -> {
                    if (r.path().equals("/ok")) {
                        up.add(r);
                    }
                });
        assertThat(up).hasSize(50);
        assertThat(up.get(0).body().get("text").asText())
                .startsWith("[warning] escalation_requested · up / c-0 (v0): escalation");

        assertThat(downDone.await(40, TimeUnit.SECONDS)).isTrue();
        List<WebhookDispatcher.Failure> failed = dispatcher.failures("down");
        assertThat(failed).hasSize(2);
        assertThat(failed)
                .allSatisfy(
                        f -> {
                            assertThat(f.attempts()).isEqualTo(2);
                            assertThat(f.reason()).startsWith("timeout");
                            assertThat(f.host()).isEqualTo("127.0.0.1");
                        });
        assertThat(dispatcher.failures("up")).isEmpty();
    }

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void aClientErrorFailsAtOnceWithItsStatus() throws Exception {
        dispatcher =
                dispatcher(
                        Map.of(
                                "acme",
                                new WebhookDispatcher.Endpoint(
                                        url("/gone"), WebhookDispatcher.Format.JSON)),
                        5,
                        Duration.ofMillis(10),
                        Duration.ofMillis(20),
                        Duration.ofSeconds(5));
        CountDownLatch done = new CountDownLatch(1);
        dispatcher.submit(alert("acme", 1), done::countDown);
        assertThat(done.await(20, TimeUnit.SECONDS)).isTrue();
        assertThat(dispatcher.failures("acme"))
                .singleElement()
                .satisfies(
                        f -> {
                            assertThat(f.reason()).isEqualTo("HTTP 404");
                            assertThat(f.attempts()).isEqualTo(1);
                            assertThat(f.alertId()).isEqualTo("acme-alert-1");
                        });
        // a tenant without a webhook is done at once
        CountDownLatch none = new CountDownLatch(1);
        dispatcher.submit(alert("nobody", 1), none::countDown);
        assertThat(none.getCount()).isZero();
    }

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void aReceiversRetryAfterIsHonoured() throws Exception {
        // Backoff of 10-20 ms: only the receiver's Retry-After can make the retry wait a second.
        dispatcher =
                dispatcher(
                        Map.of(
                                "acme",
                                new WebhookDispatcher.Endpoint(
                                        url("/busy"), WebhookDispatcher.Format.JSON)),
                        5,
                        Duration.ofMillis(10),
                        Duration.ofMillis(20),
                        Duration.ofSeconds(5));
        CountDownLatch done = new CountDownLatch(1);
        long start = System.nanoTime();
        dispatcher.submit(alert("acme", 1), done::countDown);
        assertThat(done.await(20, TimeUnit.SECONDS)).isTrue();
        long waitedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertThat(requests).extracting(Request::answered).containsExactly(429, 200);
        assertThat(stored).containsExactly("acme-alert-1");
        assertThat(dispatcher.failures("acme")).isEmpty();
        // A deterministic lower bound: the retry was not sent before the second had passed.
        assertThat(waitedMs).isGreaterThanOrEqualTo(1000);
    }

    @Test
    void webhooksAreReadFromTheConfiguration() {
        Map<String, WebhookDispatcher.Endpoint> e =
                WebhookDispatcher.endpoints(
                        Map.of(
                                "signalstream.alerts.webhooks.Apple.Support.url",
                                "https://hooks.example.com/a",
                                "signalstream.alerts.webhooks.Apple.Support.format",
                                "slack",
                                "signalstream.alerts.webhooks.acme.url",
                                "http://127.0.0.1:9/x",
                                "signalstream.other",
                                "ignored"));
        assertThat(e).containsOnlyKeys("Apple.Support", "acme");
        assertThat(e.get("Apple.Support").format()).isEqualTo(WebhookDispatcher.Format.SLACK);
        assertThat(e.get("acme").format()).isEqualTo(WebhookDispatcher.Format.JSON);
        assertThatThrownBy(
                        () ->
                                WebhookDispatcher.endpoints(
                                        Map.of("signalstream.alerts.webhooks.acme.format", "xml")))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(
                        () ->
                                WebhookDispatcher.endpoints(
                                        Map.of(
                                                "signalstream.alerts.webhooks.acme.url",
                                                "ftp://x/y")))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(
                        () ->
                                WebhookDispatcher.endpoints(
                                        Map.of("signalstream.alerts.webhooks.acme.uri", "x")))
                .hasMessageContaining("unknown webhook option");
    }
}
