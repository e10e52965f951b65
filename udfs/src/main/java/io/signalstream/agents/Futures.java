package io.signalstream.agents;

import java.util.concurrent.CompletableFuture;

/** Small helpers for the providers' futures. */
public final class Futures {

    private Futures() {}

    /** Completes {@code to} with the value or the failure of {@code from}, when it completes. */
    public static <T> void forward(CompletableFuture<T> from, CompletableFuture<T> to) {
        from.whenComplete(
                (v, e) -> {
                    if (e != null) {
                        to.completeExceptionally(e);
                    } else {
                        to.complete(v);
                    }
                });
    }
}
