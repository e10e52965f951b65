package io.signalstream.agents.local;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Phone numbers found by their formatting when they are not valid in the default region. */
class PhoneFormattingTest {

    private final PiiDetector pii = new PiiDetector();

    private List<String> phones(String text) {
        return pii.detect(text).stream()
                .filter(e -> e.type().equals(PiiDetector.PHONE_NUMBER))
                .map(PiiEntity::text)
                .toList();
    }

    @Test
    void formattedForeignNumbersAreFound() {
        assertThat(phones("ring me on +46 (0)8 928 571 38 tonight"))
                .containsExactly("+46 (0)8 928 571 38");
        assertThat(phones("my mobile is +447700 921 916, thanks"))
                .containsExactly("+447700 921 916");
        assertThat(phones("call 03.93.92.16.85 after nine")).containsExactly("03.93.92.16.85");
        assertThat(pii.detect("call 03.93.92.16.85 after nine").get(0).score())
                .isEqualTo(PiiDetector.SCORE_PHONE_FORMATTED);
    }

    @Test
    void specsVersionsDatesIdsAndPlaceholdersAreNot() {
        assertThat(phones("AMD Ryzen 5 3600 3.6 GHz 6-Core Processor")).isEmpty();
        assertThat(phones("it's now running version 8.5.50.916.")).isEmpty();
        assertThat(phones("since 2020-04-01 and 01.04.2020")).isEmpty();
        assertThat(phones("order 1245403438755852288 is late")).isEmpty();
        assertThat(phones("call 555-555-5555 or 000-000-0000")).isEmpty();
        assertThat(phones("room 467 3395")).isEmpty();
    }
}
