package io.signalstream.local.bench;

import io.signalstream.serde.Json;

import com.fasterxml.jackson.databind.JsonNode;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Polls a MiniCluster's REST API ({@code GET /jobs/:id/checkpoints}) every 200 ms and keeps the
 * end-to-end duration of every completed checkpoint (and its type: aligned or unaligned) and the
 * number of failed ones.
 */
final class CheckpointWatcher implements AutoCloseable {

    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final URI uri;
    private final Map<Long, Long> durations = new TreeMap<>();
    private final Map<Long, String> types = new TreeMap<>();
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final Thread thread;
    private volatile long failed;

    CheckpointWatcher(int restPort, String jobId) {
        this.uri = URI.create("http://127.0.0.1:" + restPort + "/jobs/" + jobId + "/checkpoints");
        thread = new Thread(this::loop, "bench-checkpoint-watcher");
        thread.setDaemon(true);
        thread.start();
    }

    private void loop() {
        while (running.get()) {
            poll();
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private void poll() {
        try {
            HttpResponse<String> r =
                    http.send(
                            HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(2)).build(),
                            HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                return;
            }
            JsonNode root = Json.MAPPER.readTree(r.body());
            failed = root.path("counts").path("failed").asLong();
            synchronized (this) {
                for (JsonNode c : root.path("history")) {
                    if ("COMPLETED".equals(c.path("status").asText())) {
                        long id = c.path("id").asLong();
                        durations.put(id, c.path("end_to_end_duration").asLong());
                        // CHECKPOINT, or UNALIGNED_CHECKPOINT once the aligned-checkpoint
                        // timeout switched it to unaligned
                        types.put(
                                id,
                                c.path("checkpoint_type").asText("?").contains("UNALIGNED")
                                        ? "unaligned"
                                        : "aligned");
                    }
                }
            }
        } catch (Exception e) {
            // not up yet, or the job is gone: try again
        }
    }

    /** Stops polling after one last poll; the figures stay readable. */
    @Override
    public void close() throws InterruptedException {
        running.set(false);
        thread.interrupt();
        thread.join(2000);
        // past the REST API's checkpoint statistics cache (100 ms in the benchmark's jobs)
        Thread.sleep(300);
        poll();
    }

    /** Durations (ms) of the completed checkpoints, by checkpoint id. */
    synchronized Map<Long, Long> durations() {
        return new TreeMap<>(durations);
    }

    /** Checkpoint type by id: {@code aligned} or {@code unaligned}. */
    synchronized Map<Long, String> types() {
        return new TreeMap<>(types);
    }

    long failed() {
        return failed;
    }
}
