package io.signalstream.agents;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;

/** {@link AgentResults#hash}: the first 16 hex digits of SHA-256, the same on every thread. */
class AgentResultsHashTest {

    @Test
    void firstSixteenHexDigitsOfSha256() {
        // SHA-256("abc") = ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
        assertThat(AgentResults.hash("abc")).isEqualTo("ba7816bf8f01cfea");
        // SHA-256("") = e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
        assertThat(AgentResults.hash("")).isEqualTo("e3b0c44298fc1c14");
        // UTF-8 bytes, and the digest starts afresh after each call
        assertThat(AgentResults.hash("é")).isEqualTo(AgentResults.hash("é"));
        assertThat(AgentResults.hash("abc")).isEqualTo("ba7816bf8f01cfea");
    }

    @Test
    void sameHashOnConcurrentThreads() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<List<String>>> runs = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                runs.add(
                        pool.submit(
                                () -> {
                                    List<String> out = new ArrayList<>();
                                    for (int i = 0; i < 2_000; i++) {
                                        out.add(AgentResults.hash("text " + (i % 50)));
                                    }
                                    return out;
                                }));
            }
            List<String> first = runs.get(0).get();
            for (Future<List<String>> run : runs) {
                assertThat(run.get()).isEqualTo(first);
            }
            assertThat(first.get(0)).isEqualTo(AgentResults.hash("text 0"));
            assertThat(first.get(1)).isNotEqualTo(first.get(0));
        } finally {
            pool.shutdownNow();
        }
    }
}
