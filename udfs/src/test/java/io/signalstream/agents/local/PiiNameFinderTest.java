package io.signalstream.agents.local;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The shipped PII name finder model: names, addresses and places, and what it must not take. */
class PiiNameFinderTest {

    private final PiiDetector pii = new PiiDetector();

    private List<String> found(String text, String type) {
        return pii.detect(text).stream()
                .filter(e -> e.type().equals(type))
                .map(PiiEntity::text)
                .toList();
    }

    @Test
    void aNameInContextIsFound() {
        assertThat(found("Hi, my name is Laura Jimenez and my order never arrived.", "PERSON"))
                .containsExactly("Laura Jimenez");
        assertThat(found("Please ask Mr. Daniel Okafor to call me back", "PERSON"))
                .containsExactly("Daniel Okafor");
    }

    @Test
    void anAddressIsFoundButBelowItsFloorAndItsPlacesAndHouseNumberAreNotReported() {
        String text = "Please ship it to 4821 Maple Grove Avenue Apt. 12, Springfield, IL 62704";
        List<PiiEntity> belowFloor = new java.util.ArrayList<>();
        List<PiiEntity> reported = PiiNameFinder.shared().find(text, belowFloor);
        assertThat(reported).noneMatch(e -> e.type().equals("STREET_ADDRESS"));
        assertThat(belowFloor)
                .anySatisfy(
                        e -> {
                            assertThat(e.type()).isEqualTo("STREET_ADDRESS");
                            assertThat(e.text()).contains("4821 Maple Grove Avenue");
                        });
        // The city of the address block is part of the address, not a free-standing place.
        assertThat(found(text, "GPE")).isEmpty();
        assertThat(found("We are based in London, United Kingdom.", "GPE"))
                .containsExactly("London");
        // A grouped house number followed by its street is not a phone number.
        assertThat(found("The office is at 17031 2202 Rissik St Apt. 050", "PHONE_NUMBER"))
                .isEmpty();
    }

    @Test
    void productsBrandsAndOrganisationsAreNoNamesOrPlaces() {
        for (String text :
                List.of(
                        "I tried with Microsoft Authenticator and then Google Takeout.",
                        "Please call Home Lending Team at the number below.",
                        "Experiencing some issues with Grand Theft Auto 5 online.",
                        "There is a game breaking bug in Knack 2 in chapter 8.",
                        "I can't get a camp to load in RDR2 online.",
                        "Ordered Chopped Tomatoes, got none.",
                        "The Samsung Pay app and the Apple Store both fail.",
                        "We need better Collaboration tools and less Malware.")) {
            assertThat(found(text, "PERSON")).as(text).isEmpty();
            assertThat(found(text, "GPE")).as(text).isEmpty();
        }
        assertThat(found("Hi Justin, sorry for the trouble with your order.", "PERSON"))
                .containsExactly("Justin");
    }

    @Test
    void floorsDropATypeOrLowConfidenceFindings() {
        PiiNameFinder s = PiiNameFinder.shared();
        assertThat(PiiNameFinder.DEFAULT_FLOORS.get("STREET_ADDRESS")).isInfinite();
        for (PiiEntity e : s.find("My name is Laura Jimenez, I live in Lisbon, Portugal.")) {
            assertThat(e.score())
                    .isGreaterThanOrEqualTo(PiiNameFinder.DEFAULT_FLOORS.get(e.type()));
        }
    }

    @Test
    void sentenceStartsHandlesAndInitialsAreNotNames() {
        String text =
                "@Sprint Thanks for nothing. It is still broken. However I tried. Sprint said"
                        + " to upgrade. YouTube works. CODE RED.";
        assertThat(found(text, "PERSON")).isEmpty();
        assertThat(found(text, "GPE")).isEmpty();
    }

    @Test
    void confidenceIsTheCalibratedPrecisionAndAtLeastTheMinimum() {
        for (PiiEntity e : pii.detect("My name is Laura Jimenez, I live in Lisbon, Portugal.")) {
            if (PiiNameFinder.TYPES.contains(e.type())) {
                assertThat(e.score()).isBetween(PiiNameFinder.DEFAULT_FLOORS.get(e.type()), 1.0);
            }
        }
        PiiNameFinder.Calibration c =
                new PiiNameFinder.Calibration(
                        new double[] {0, 0.5, 0.9}, new double[] {0.2, 0.6, 0.9});
        assertThat(c.confidence(0.1)).isEqualTo(0.2);
        assertThat(c.confidence(0.5)).isEqualTo(0.6);
        assertThat(c.confidence(0.95)).isEqualTo(0.9);
    }

    @Test
    void oneModelPerJvmAndThreadSafe() throws Exception {
        assertThat(PiiNameFinder.shared()).isSameAs(PiiNameFinder.shared());
        List<String> texts =
                List.of(
                        "Hi, my name is Laura Jimenez and my order never arrived.",
                        "Name: Toshimi Arata\nPhone: 0490 75 40 81",
                        "The office is at 17 Rue de Rivoli, Paris, France");
        List<List<PiiEntity>> expected = texts.stream().map(pii::detect).toList();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<Boolean>> runs = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                runs.add(
                        pool.submit(
                                () -> {
                                    for (int i = 0; i < 50; i++) {
                                        for (int k = 0; k < texts.size(); k++) {
                                            if (!pii.detect(texts.get(k)).equals(expected.get(k))) {
                                                return false;
                                            }
                                        }
                                    }
                                    return true;
                                }));
            }
            for (Future<Boolean> f : runs) {
                assertThat(f.get(60, TimeUnit.SECONDS)).isTrue();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void findCachedGivesWhatFindGivesOncePerText() {
        PiiNameFinder f = PiiNameFinder.shared();
        String text = "Hello, this is Maria Gonzalez, I live at 12 Rissik St in Chicago.";
        List<PiiEntity> below = new ArrayList<>();
        List<PiiEntity> direct = f.find(text, below);

        PiiNameFinder.Findings cached = f.findCached(text);

        assertThat(direct).extracting(PiiEntity::text).contains("Maria Gonzalez");
        assertThat(cached.reported()).isEqualTo(direct);
        assertThat(cached.belowFloor()).isEqualTo(below);
        assertThat(f.findCached(text)).isSameAs(cached);
        assertThat(f.findCached(text + " ")).isNotSameAs(cached);
    }

    @Test
    void aNameMetAgainTakesItsSurnameByTheFindersOwnRule() {
        PiiNameFinder f = PiiNameFinder.shared();
        assertThat(f.continuesName("Surubaru")).isTrue();
        assertThat(f.continuesName("O'Brien")).isTrue();
        assertThat(f.continuesName("Smith-Jones")).isTrue();
        assertThat(f.continuesName("Thanks")).as("a common word").isFalse();
        assertThat(f.continuesName("smith")).as("not capitalised").isFalse();
        assertThat(f.continuesName("O")).isFalse();

        String text = "Lilian Surubaru Ionescu Popa. Lilian Thanks";
        int end = "Lilian".length();
        // Up to two words, as the finder extends its own spans.
        assertThat(text.substring(0, f.extendNameEnd(text, end)))
                .isEqualTo("Lilian Surubaru Ionescu");
        int second = text.lastIndexOf("Lilian") + end;
        assertThat(f.extendNameEnd(text, second)).isEqualTo(second);
        assertThat(f.extendNameEnd("Lilian", end)).isEqualTo(end);
    }
}
