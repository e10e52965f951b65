package io.signalstream.functions;

import org.apache.flink.api.common.state.StateTtlConfig;

import java.time.Duration;

/** The state TTL of per-conversation keyed state. */
final class IdleStateTtl {

    private IdleStateTtl() {}

    /**
     * An idle TTL: an entry expires {@code ttl} after it was last written, and an expired entry is
     * never returned. Cleanup runs in the background (compaction filter on RocksDB, incremental on
     * the heap backend), so state of abandoned conversations does not grow without bound.
     */
    static StateTtlConfig of(Duration ttl) {
        return StateTtlConfig.newBuilder(ttl)
                .setUpdateType(StateTtlConfig.UpdateType.OnCreateAndWrite)
                .setStateVisibility(StateTtlConfig.StateVisibility.NeverReturnExpired)
                .build();
    }
}
