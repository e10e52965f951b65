package io.signalstream.api;

/**
 * The API service: Javalin on {@link ApiOptions#port()}, an idempotent producer into the input
 * topic, and the view of the aggregated topic. Contract (see the README's API section):
 *
 * <ul>
 *   <li>{@code GET /} the live dashboard (static files under {@code /dashboard/});
 *   <li>{@code POST /v1/messages}, {@code GET /v1/conversations}, {@code GET
 *       /v1/conversations/{id}/insights}, WebSocket {@code /v1/stream} and {@code
 *       /v1/conversations/{id}/stream} ({@code ?access_token=}), {@code GET /health}, {@code GET
 *       /ready}, {@code GET /metrics}.
 * </ul>
 */
public final class ApiServer implements AutoCloseable {

    private ApiServer() {}

    /**
     * Starts the service; returns once it listens (the view may still be catching up: see {@code
     * /ready}).
     *
     * @throws IllegalStateException when the port is taken or Kafka is unreachable
     */
    public static ApiServer start(ApiOptions options) {
        throw new UnsupportedOperationException("not yet");
    }

    /** The port it listens on. */
    public int port() {
        throw new UnsupportedOperationException("not yet");
    }

    /** {@code http://127.0.0.1:<port>}. */
    public String url() {
        return "http://127.0.0.1:" + port();
    }

    /** Whether the view has caught up with the aggregated topic's end offsets seen at start. */
    public boolean ready() {
        throw new UnsupportedOperationException("not yet");
    }

    @Override
    public void close() {}
}
