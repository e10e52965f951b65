package io.signalstream.api;

import io.signalstream.agents.JitteredBackoffRetryStrategy;
import io.signalstream.serde.Json;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Delivers alerts to the webhooks configured per tenant: an HTTP {@code POST} with {@code
 * Content-Type: application/json} and {@code Idempotency-Key: <alert_id>}, whose body is the alert
 * itself ({@link Format#JSON}) or a Slack-compatible {@code {"text": "..."}} ({@link
 * Format#SLACK}).
 *
 * <p><b>At least once.</b> A delivery is retried on a network error, a timeout, 408, 425, 429 and
 * 5xx, with equal-jitter exponential backoff ({@link JitteredBackoffRetryStrategy#equalJitterMs},
 * or the receiver's {@code Retry-After} when longer, up to 10 min), up to {@link
 * Settings#maxAttempts()} attempts; any other status (e.g. 400, 404) fails at once. A delivery that
 * fails for good is logged, counted ({@code signalstream_api_webhook_deliveries{outcome="failed"}})
 * and kept with its reason in {@link #failures(String)} (the newest {@link Settings#failuresKept()}
 * per tenant). A retry may reach a receiver that already got the alert: receivers drop duplicates
 * by the idempotency key.
 *
 * <p><b>Tenants never wait for each other.</b> Each tenant has its own lane: a bounded queue
 * delivered in order, one request at a time, with the non-blocking {@link HttpClient#sendAsync} and
 * backoffs scheduled on a timer, so no thread is held while a tenant's receiver is slow or down. A
 * full lane refuses new alerts (recorded as failures with reason {@code queue full}).
 *
 * <p>Thread-safe.
 */
public final class WebhookDispatcher implements AutoCloseable {

    /** The longest {@code Retry-After} a receiver can make a tenant's lane wait. */
    static final Duration MAX_RETRY_AFTER = Duration.ofMinutes(10);

    private static final Logger LOG = LoggerFactory.getLogger(WebhookDispatcher.class);

    /** Body format of a webhook. */
    public enum Format {
        /** The alert record as JSON. */
        JSON,
        /** {@code {"text": "..."}}, as Slack incoming webhooks take it. */
        SLACK;

        /**
         * @param name {@code json} or {@code slack}, any case
         * @throws IllegalArgumentException for anything else
         */
        public static Format parse(String name) {
            return switch (name.trim().toLowerCase(Locale.ROOT)) {
                case "json" -> JSON;
                case "slack" -> SLACK;
                default ->
                        throw new IllegalArgumentException(
                                "webhook format '" + name + "': use json or slack");
            };
        }
    }

    /** Prefix of the webhook options: {@code signalstream.alerts.webhooks.<tenant>.url|format}. */
    public static final String CONFIG_PREFIX = "signalstream.alerts.webhooks.";

    /**
     * Reads the per-tenant webhooks from flat configuration keys: {@code
     * signalstream.alerts.webhooks.<tenant>.url} (required) and {@code ...<tenant>.format} ({@code
     * json}, the default, or {@code slack}).
     *
     * @param conf flat configuration (e.g. {@code Configuration#toMap()})
     * @return tenant → webhook
     * @throws IllegalArgumentException for another key under the prefix, a format without a url, a
     *     url that is not http(s) or an unknown format
     */
    public static Map<String, Endpoint> endpoints(Map<String, String> conf) {
        Map<String, String> urls = new java.util.TreeMap<>();
        Map<String, String> formats = new java.util.TreeMap<>();
        for (Map.Entry<String, String> e : conf.entrySet()) {
            if (!e.getKey().startsWith(CONFIG_PREFIX)) {
                continue;
            }
            String rest = e.getKey().substring(CONFIG_PREFIX.length());
            if (rest.endsWith(".url") && rest.length() > 4) {
                urls.put(rest.substring(0, rest.length() - 4), e.getValue().trim());
            } else if (rest.endsWith(".format") && rest.length() > 7) {
                formats.put(rest.substring(0, rest.length() - 7), e.getValue());
            } else {
                throw new IllegalArgumentException(
                        "unknown webhook option '"
                                + e.getKey()
                                + "': use "
                                + CONFIG_PREFIX
                                + "<tenant>.url or .format");
            }
        }
        for (String tenant : formats.keySet()) {
            if (!urls.containsKey(tenant)) {
                throw new IllegalArgumentException(
                        "webhook of tenant " + tenant + " has a format but no url");
            }
        }
        Map<String, Endpoint> out = new java.util.TreeMap<>();
        urls.forEach(
                (tenant, url) ->
                        out.put(
                                tenant,
                                new Endpoint(
                                        URI.create(url),
                                        Format.parse(formats.getOrDefault(tenant, "json")))));
        return out;
    }

    /**
     * One tenant's webhook.
     *
     * @param url where alerts are posted (http or https)
     * @param format body format
     */
    public record Endpoint(URI url, Format format) {
        public Endpoint {
            Objects.requireNonNull(url, "url");
            Objects.requireNonNull(format, "format");
            String scheme = String.valueOf(url.getScheme()).toLowerCase(Locale.ROOT);
            if (!scheme.equals("http") && !scheme.equals("https")) {
                throw new IllegalArgumentException("webhook url must be http(s): " + url);
            }
        }
    }

    /**
     * How webhooks are delivered.
     *
     * @param endpoints tenant id → its webhook; tenants without one get no webhook
     * @param maxAttempts attempts per alert, the first included (at least 1)
     * @param initialBackoff backoff before the first retry
     * @param maxBackoff upper bound of a backoff
     * @param requestTimeout timeout of one request (connect and response)
     * @param maxQueuedPerTenant alerts a tenant's lane holds before it refuses more
     * @param failuresKept failed deliveries kept per tenant for {@code GET /v1/alerts/deliveries}
     */
    public record Settings(
            Map<String, Endpoint> endpoints,
            int maxAttempts,
            Duration initialBackoff,
            Duration maxBackoff,
            Duration requestTimeout,
            int maxQueuedPerTenant,
            int failuresKept) {

        public Settings {
            endpoints = Map.copyOf(endpoints);
            if (maxAttempts < 1 || maxQueuedPerTenant < 1 || failuresKept < 0) {
                throw new IllegalArgumentException("invalid webhook settings");
            }
        }

        /**
         * No webhooks; defaults of 8 attempts, 500 ms to 30 s backoff, 10 s request timeout, 10,000
         * queued alerts and 1,000 failures kept per tenant.
         */
        public static Settings none() {
            return new Settings(
                    Map.of(),
                    8,
                    Duration.ofMillis(500),
                    Duration.ofSeconds(30),
                    Duration.ofSeconds(10),
                    10_000,
                    1_000);
        }

        /** These settings with these webhooks. */
        public Settings withEndpoints(Map<String, Endpoint> webhooks) {
            return new Settings(
                    webhooks,
                    maxAttempts,
                    initialBackoff,
                    maxBackoff,
                    requestTimeout,
                    maxQueuedPerTenant,
                    failuresKept);
        }

        /** These settings with other retry bounds. */
        public Settings withRetries(
                int attempts, Duration initial, Duration max, Duration timeout) {
            return new Settings(
                    endpoints, attempts, initial, max, timeout, maxQueuedPerTenant, failuresKept);
        }
    }

    /**
     * A delivery that failed for good.
     *
     * @param alertId the alert
     * @param tenantId its tenant
     * @param type its type
     * @param host the webhook's host (the full URL may hold a secret, e.g. Slack's)
     * @param attempts attempts made
     * @param reason the last error, e.g. {@code HTTP 503} or {@code timeout}
     * @param failedAt when it was given up
     */
    public record Failure(
            String alertId,
            String tenantId,
            String type,
            String host,
            int attempts,
            String reason,
            Instant failedAt) {}

    private final Settings settings;
    private final HttpClient client;
    private final ScheduledExecutorService timer;
    private final Map<String, Lane> lanes = new ConcurrentHashMap<>();
    private final Map<String, Deque<Failure>> failures = new ConcurrentHashMap<>();
    private final Counter delivered;
    private final Counter failed;
    private final Counter retried;
    private volatile boolean closed;

    /**
     * @param settings webhooks and retry bounds
     * @param metrics where the delivery counters go
     */
    public WebhookDispatcher(Settings settings, MeterRegistry metrics) {
        this.settings = settings;
        this.client =
                HttpClient.newBuilder()
                        .connectTimeout(settings.requestTimeout())
                        .followRedirects(HttpClient.Redirect.NEVER)
                        .build();
        ScheduledThreadPoolExecutor t =
                new ScheduledThreadPoolExecutor(
                        1,
                        r -> {
                            Thread th = new Thread(r, "signalstream-api-webhook-retries");
                            th.setDaemon(true);
                            return th;
                        });
        t.setRemoveOnCancelPolicy(true);
        this.timer = t;
        this.delivered =
                Counter.builder("signalstream_api_webhook_deliveries")
                        .tag("outcome", "delivered")
                        .register(metrics);
        this.failed =
                Counter.builder("signalstream_api_webhook_deliveries")
                        .tag("outcome", "failed")
                        .register(metrics);
        this.retried =
                Counter.builder("signalstream_api_webhook_deliveries")
                        .tag("outcome", "retried")
                        .register(metrics);
    }

    /** Whether any tenant has a webhook. */
    public boolean enabled() {
        return !settings.endpoints().isEmpty();
    }

    /** Whether this tenant has a webhook. */
    public boolean hasWebhook(String tenantId) {
        return settings.endpoints().containsKey(tenantId);
    }

    /**
     * Queues an alert for its tenant's webhook.
     *
     * @param alert the alert record ({@code alert_id}, {@code tenant_id}, ...)
     * @param done run once the alert is delivered or failed for good (also at once when its tenant
     *     has no webhook); never run when the dispatcher closes first
     */
    public void submit(ObjectNode alert, Runnable done) {
        String tenant = alert.path("tenant_id").asText("");
        Endpoint endpoint = settings.endpoints().get(tenant);
        if (endpoint == null || closed) {
            if (!closed) {
                done.run();
            }
            return;
        }
        lanes.computeIfAbsent(tenant, t -> new Lane(t, endpoint)).offer(new Delivery(alert, done));
    }

    /** A tenant's failed deliveries, newest last. */
    public List<Failure> failures(String tenantId) {
        Deque<Failure> d = failures.get(tenantId);
        if (d == null) {
            return List.of();
        }
        synchronized (d) {
            return new ArrayList<>(d);
        }
    }

    /** Alerts queued or in flight for a tenant. */
    public int pending(String tenantId) {
        Lane lane = lanes.get(tenantId);
        return lane == null ? 0 : lane.pending();
    }

    /** The request body of an alert in a format. */
    static String body(ObjectNode alert, Format format) {
        if (format == Format.JSON) {
            return Json.toString(alert);
        }
        ObjectNode slack = Json.MAPPER.createObjectNode();
        slack.put("text", slackText(alert));
        return Json.toString(slack);
    }

    /**
     * One line for a Slack channel, e.g. {@code [critical] critical_urgency · acme / c-1 (v5): …}.
     */
    static String slackText(JsonNode a) {
        return String.format(
                Locale.ROOT,
                "[%s] %s · %s / %s (v%d): %s",
                a.path("severity").asText(),
                a.path("type").asText(),
                a.path("tenant_id").asText(),
                a.path("conversation_id").asText(),
                a.path("version").asLong(),
                a.path("reason").asText());
    }

    private final class Delivery {
        final ObjectNode alert;
        final Runnable done;
        final String alertId;
        int attempts;

        Delivery(ObjectNode alert, Runnable done) {
            this.alert = alert;
            this.done = done;
            this.alertId = alert.path("alert_id").asText("");
        }
    }

    /** One tenant's deliveries: in order, one at a time, never blocking a thread. */
    private final class Lane {
        final String tenant;
        final Endpoint endpoint;
        private final ArrayDeque<Delivery> queue = new ArrayDeque<>();
        private boolean busy;

        Lane(String tenant, Endpoint endpoint) {
            this.tenant = tenant;
            this.endpoint = endpoint;
        }

        synchronized int pending() {
            return queue.size() + (busy ? 1 : 0);
        }

        void offer(Delivery d) {
            synchronized (this) {
                if (queue.size() >= settings.maxQueuedPerTenant()) {
                    d.attempts = 0;
                } else {
                    queue.add(d);
                    if (busy) {
                        return;
                    }
                    busy = true;
                    d = null;
                }
            }
            if (d != null) {
                giveUp(d, "queue full (" + settings.maxQueuedPerTenant() + " alerts waiting)");
                return;
            }
            next();
        }

        private void next() {
            Delivery d;
            synchronized (this) {
                d = queue.poll();
                if (d == null || closed) {
                    busy = false;
                    return;
                }
            }
            attempt(d);
        }

        private void attempt(Delivery d) {
            if (closed) {
                return;
            }
            d.attempts++;
            HttpRequest request =
                    HttpRequest.newBuilder(endpoint.url())
                            .timeout(settings.requestTimeout())
                            .header("Content-Type", "application/json")
                            .header("Idempotency-Key", d.alertId)
                            .header("User-Agent", "SignalStream-Alerts/1")
                            .POST(
                                    HttpRequest.BodyPublishers.ofString(
                                            body(d.alert, endpoint.format())))
                            .build();
            client.sendAsync(request, HttpResponse.BodyHandlers.discarding())
                    .whenComplete(
                            (response, error) -> {
                                String reason;
                                boolean retryable;
                                long retryAfter = 0;
                                if (error == null && response.statusCode() / 100 == 2) {
                                    delivered.increment();
                                    finish(d);
                                    return;
                                } else if (error != null) {
                                    Throwable cause =
                                            error.getCause() != null ? error.getCause() : error;
                                    reason =
                                            cause instanceof java.net.http.HttpTimeoutException
                                                    ? "timeout after "
                                                            + settings.requestTimeout().toMillis()
                                                            + " ms"
                                                    : cause.getClass().getSimpleName()
                                                            + (cause.getMessage() == null
                                                                    ? ""
                                                                    : ": " + cause.getMessage());
                                    retryable = true;
                                } else {
                                    int status = response.statusCode();
                                    reason = "HTTP " + status;
                                    retryable =
                                            status == 408
                                                    || status == 425
                                                    || status == 429
                                                    || status >= 500;
                                    retryAfter =
                                            JitteredBackoffRetryStrategy.retryAfterMs(
                                                    response.headers()
                                                            .firstValue("Retry-After")
                                                            .orElse(null));
                                }
                                if (retryable && d.attempts < settings.maxAttempts() && !closed) {
                                    retried.increment();
                                    // A receiver's Retry-After wins over a shorter backoff
                                    // (at most MAX_RETRY_AFTER: the tenant's lane waits).
                                    long backoff =
                                            Math.max(
                                                    JitteredBackoffRetryStrategy.equalJitterMs(
                                                            settings.initialBackoff().toMillis(),
                                                            settings.maxBackoff().toMillis(),
                                                            d.attempts),
                                                    Math.min(
                                                            retryAfter,
                                                            MAX_RETRY_AFTER.toMillis()));
                                    try {
                                        timer.schedule(
                                                () -> attempt(d), backoff, TimeUnit.MILLISECONDS);
                                    } catch (java.util.concurrent.RejectedExecutionException e) {
                                        // closing
                                    }
                                } else {
                                    giveUp(d, reason);
                                    finish(d);
                                }
                            });
        }

        private void finish(Delivery d) {
            try {
                d.done.run();
            } catch (RuntimeException e) {
                LOG.warn("webhook completion callback failed", e);
            }
            next();
        }

        private void giveUp(Delivery d, String reason) {
            failed.increment();
            Failure f =
                    new Failure(
                            d.alertId,
                            tenant,
                            d.alert.path("type").asText(),
                            endpoint.url().getHost(),
                            d.attempts,
                            reason,
                            Instant.now());
            LOG.warn(
                    "webhook delivery of alert {} for tenant {} to {} failed after {} attempt(s):"
                            + " {}",
                    f.alertId(),
                    tenant,
                    endpoint.url().getHost(),
                    f.attempts(),
                    reason);
            Deque<Failure> list = failures.computeIfAbsent(tenant, t -> new ArrayDeque<>());
            synchronized (list) {
                list.addLast(f);
                while (list.size() > settings.failuresKept()) {
                    list.removeFirst();
                }
            }
            if (d.attempts == 0) {
                // refused by a full queue: done as far as the caller is concerned
                try {
                    d.done.run();
                } catch (RuntimeException e) {
                    LOG.warn("webhook completion callback failed", e);
                }
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        timer.shutdownNow();
    }
}
