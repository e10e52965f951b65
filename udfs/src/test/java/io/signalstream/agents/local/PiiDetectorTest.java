package io.signalstream.agents.local;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.commons.validator.routines.checkdigit.LuhnCheckDigit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PiiDetectorTest {

    private final PiiDetector detector = new PiiDetector();

    private List<PiiEntity> ofType(String text, String type) {
        return detector.detect(text).stream().filter(e -> e.type().equals(type)).toList();
    }

    @Test
    void emailsWithExactOffsets() {
        String text = "Mail jane.doe@example.com or Bob_S+tag@mail.example.co.uk.";
        assertThat(detector.detect(text))
                .containsExactly(
                        new PiiEntity("EMAIL_ADDRESS", 5, 25, 0.95, "jane.doe@example.com"),
                        new PiiEntity(
                                "EMAIL_ADDRESS", 29, 57, 0.95, "Bob_S+tag@mail.example.co.uk"));
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "user@localhost",
                "user@@example.com",
                "@example.com",
                "user@example.invalidtld",
                "e-mail me"
            })
    void invalidEmailsAreNotReported(String text) {
        assertThat(ofType(text, "EMAIL_ADDRESS")).isEmpty();
    }

    @Test
    void emailInRealCustomerTweet() {
        String text = SharedData.message("LgwAXtbbEm0mBvDrGmjk", 0);
        List<PiiEntity> emails = ofType(text, "EMAIL_ADDRESS");
        assertThat(emails).hasSize(1);
        PiiEntity e = emails.get(0);
        assertThat(text.substring(e.start(), e.end())).isEqualTo(e.text()).endsWith("@gmail.com");
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "4111111111111111",
                "4111 1111 1111 1111",
                "4111-1111-1111-1111",
                "5555 5555 5555 4444",
                "2223003122003222",
                "378282246310005",
                "3782 822463 10005",
                "6011111111111117",
                "30569309025904"
            })
    void validCardsAreFound(String card) {
        String text = "my card is " + card + ", thanks";
        assertThat(detector.detect(text))
                .containsExactly(new PiiEntity("CREDIT_CARD", 11, 11 + card.length(), 1.0, card));
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "4111111111111112",
                "4111 1111 1111 1112",
                "5555555555554440",
                "378282246310006",
                "4111 1111-1111 1111",
                "1245403438755852288"
            })
    void invalidCardsAreRejected(String notCard) {
        assertThat(ofType("card " + notCard + " ok", "CREDIT_CARD")).isEmpty();
    }

    @Test
    void luhnValidIdWithoutIssuerPrefixIsNotACard() throws Exception {
        String body = "124540343875585228";
        String id = body + new LuhnCheckDigit().calculate(body);
        assertThat(new LuhnCheckDigit().isValid(id)).isTrue();
        assertThat(ofType("order " + id, "CREDIT_CARD")).isEmpty();
    }

    @Test
    void realTweetIdsAreNotCards() {
        for (List<JsonNode> conv : SharedData.conversations().values()) {
            for (JsonNode m : conv) {
                String id = m.get("source_msg_id").asText();
                assertThat(ofType("ref " + id, "CREDIT_CARD")).as(id).isEmpty();
            }
        }
    }

    @Test
    void ibansValidatedByMod97() {
        String text = "IBAN GB82 WEST 1234 5698 7654 32 or de89370400440532013000 please";
        assertThat(detector.detect(text))
                .containsExactly(
                        new PiiEntity("IBAN_CODE", 5, 32, 1.0, "GB82 WEST 1234 5698 7654 32"),
                        new PiiEntity("IBAN_CODE", 36, 58, 1.0, "de89370400440532013000"));
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "GB82WEST12345698765431",
                "GB83WEST12345698765432",
                "DE89370400440532013001",
                "XX82WEST12345698765432",
                "GB82WEST1234569876543"
            })
    void invalidIbansAreRejected(String iban) {
        assertThat(ofType("pay to " + iban, "IBAN_CODE")).isEmpty();
    }

    @Test
    void dashedSsnFound() {
        assertThat(detector.detect("SSN 123-45-6789."))
                .containsExactly(new PiiEntity("US_SSN", 4, 15, 0.85, "123-45-6789"));
    }

    @Test
    void undashedSsnNeedsContext() {
        assertThat(ofType("my social security number is 123456789", "US_SSN"))
                .extracting(PiiEntity::text)
                .containsExactly("123456789");
        assertThat(ofType("ssn: 123 45 6789", "US_SSN")).hasSize(1);
        assertThat(ofType("order 123456789 shipped", "US_SSN")).isEmpty();
        assertThat(ofType("ticket 123 45 6789", "US_SSN")).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "999-12-3456",
                "900-12-3456",
                "000-12-3456",
                "666-12-3456",
                "123-00-4567",
                "123-45-0000",
                "1234-56-789"
            })
    void ssnAreaGroupSerialRules(String invalid) {
        assertThat(ofType("SSN " + invalid, "US_SSN")).isEmpty();
    }

    @Test
    void ipAddresses() {
        String text = "from 192.168.0.1 and 2001:db8::1 at 12:30:45";
        assertThat(detector.detect(text))
                .containsExactly(
                        new PiiEntity("IP_ADDRESS", 5, 16, 0.9, "192.168.0.1"),
                        new PiiEntity("IP_ADDRESS", 21, 32, 0.9, "2001:db8::1"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"256.1.1.1", "1.2.3", "1.2.3.4.5", "12:30", "2001:db8::g1"})
    void invalidIpsAreRejected(String text) {
        assertThat(ofType("ip " + text, "IP_ADDRESS")).isEmpty();
    }

    @Test
    void phonesUsAndInternational() {
        String text = "Call (650) 253-0000 or +44 20 7946 0958 today";
        assertThat(detector.detect(text))
                .containsExactly(
                        new PiiEntity("PHONE_NUMBER", 5, 19, 0.85, "(650) 253-0000"),
                        new PiiEntity("PHONE_NUMBER", 23, 39, 0.85, "+44 20 7946 0958"));
    }

    @Test
    void invalidPhonesAndUrlDigitsAreRejected() {
        assertThat(ofType("call 123-4567 or 000-000-0000", "PHONE_NUMBER")).isEmpty();
        assertThat(
                        ofType(
                                "see https://support.example.com/articles/115005706806/x",
                                "PHONE_NUMBER"))
                .isEmpty();
    }

    @Test
    void findingsAreSortedAndDisjoint() {
        String text =
                "a@b.io, card 4111111111111111, call (650) 253-0000, ip 10.0.0.1, "
                        + "SSN 123-45-6789, GB82WEST12345698765432 a@b.io";
        List<PiiEntity> found = detector.detect(text);
        assertThat(found)
                .extracting(PiiEntity::type)
                .containsExactly(
                        "EMAIL_ADDRESS",
                        "CREDIT_CARD",
                        "PHONE_NUMBER",
                        "IP_ADDRESS",
                        "US_SSN",
                        "IBAN_CODE",
                        "EMAIL_ADDRESS");
        for (int i = 1; i < found.size(); i++) {
            assertThat(found.get(i).start()).isGreaterThanOrEqualTo(found.get(i - 1).end());
        }
        found.forEach(e -> assertThat(text.substring(e.start(), e.end())).isEqualTo(e.text()));
    }

    @Test
    void redactUsesTypedNumberedPlaceholders() {
        String text =
                "Mail a@b.io or c@d.io, again A@B.io; card 4111 1111 1111 1111 "
                        + "(4111111111111111); call (650) 253-0000";
        assertThat(detector.redact(text, detector.detect(text)))
                .isEqualTo(
                        "Mail <EMAIL_ADDRESS_1> or <EMAIL_ADDRESS_2>, again <EMAIL_ADDRESS_1>; card"
                                + " <CREDIT_CARD_1> (<CREDIT_CARD_1>); call <PHONE_NUMBER_1>");
        assertThat(detector.redact("nothing here")).isEqualTo("nothing here");
    }

    @Test
    void redactSkipsOverlapsAndRejectsOutOfRange() {
        String text = "abcdef";
        List<PiiEntity> overlapping =
                List.of(
                        new PiiEntity("X", 0, 4, 1.0, "abcd"),
                        new PiiEntity("Y", 2, 6, 1.0, "cdef"));
        assertThat(detector.redact(text, overlapping)).isEqualTo("<X_1>ef");
        assertThatThrownBy(() -> detector.redact("ab", overlapping))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new PiiEntity("X", 3, 3, 1.0, ""))
                .isInstanceOf(IllegalArgumentException.class);
    }

    /**
     * Presidio-research synthetic set (1,500 sentences). A finding counts as correct when it
     * overlaps a gold span of the same type. Floors are set below the measured values:
     * EMAIL/IBAN/IP/SSN recall 1.00, CREDIT_CARD recall 0.59 (JCB, Maestro and 19-digit Visa
     * numbers are outside the default card types), PHONE_NUMBER recall 1.00 (0.18 with
     * libphonenumber's US plan alone, 0.50 with formatted numbers), precision 1.00 for these; the
     * learned PERSON 0.86 / GPE 0.43 recall at precision 0.995 / 0.99 with the per-type confidence
     * floors ({@link PiiNameFinder#DEFAULT_FLOORS}); STREET_ADDRESS is below its floor and not
     * reported.
     */
    @Test
    void presidioSyntheticRecallAndPrecision() {
        JsonNode data = SharedData.readJson("pii/presidio-synth-v2.json");
        Set<String> types =
                Set.of(
                        "EMAIL_ADDRESS",
                        "CREDIT_CARD",
                        "IBAN_CODE",
                        "IP_ADDRESS",
                        "PHONE_NUMBER",
                        "US_SSN",
                        "PERSON",
                        "STREET_ADDRESS",
                        "GPE");
        Map<String, int[]> counts = new TreeMap<>(); // goldHit, gold, predHit, pred
        types.forEach(t -> counts.put(t, new int[4]));
        for (JsonNode record : data) {
            List<PiiEntity> predicted = detector.detect(record.get("full_text").asText());
            List<JsonNode> gold = new ArrayList<>();
            record.get("spans").forEach(gold::add);
            for (JsonNode g : gold) {
                int[] c = counts.get(g.get("entity_type").asText());
                if (c == null) {
                    continue;
                }
                c[1]++;
                if (predicted.stream().anyMatch(p -> overlaps(p, g, true))) {
                    c[0]++;
                }
            }
            for (PiiEntity p : predicted) {
                int[] c = counts.get(p.type());
                if (c == null) {
                    continue;
                }
                c[3]++;
                if (gold.stream().anyMatch(g -> overlaps(p, g, true))) {
                    c[2]++;
                }
            }
        }
        Map<String, Double> recall = new TreeMap<>();
        Map<String, Double> precision = new TreeMap<>();
        counts.forEach(
                (t, c) -> {
                    recall.put(t, c[1] == 0 ? 0.0 : (double) c[0] / c[1]);
                    precision.put(t, c[3] == 0 ? 1.0 : (double) c[2] / c[3]);
                    System.out.printf(
                            "PII %-14s recall %3d/%3d = %.3f  precision %3d/%3d = %.3f%n",
                            t, c[0], c[1], recall.get(t), c[2], c[3], precision.get(t));
                });
        assertThat(recall.get("EMAIL_ADDRESS")).isGreaterThanOrEqualTo(0.95);
        assertThat(recall.get("IBAN_CODE")).isGreaterThanOrEqualTo(0.95);
        assertThat(recall.get("IP_ADDRESS")).isGreaterThanOrEqualTo(0.9);
        assertThat(recall.get("US_SSN")).isGreaterThanOrEqualTo(0.9);
        assertThat(recall.get("CREDIT_CARD")).isGreaterThanOrEqualTo(0.5);
        assertThat(recall.get("PHONE_NUMBER")).isGreaterThanOrEqualTo(0.9);
        // The learned types: the full set includes the model's training part, so these floors
        // only guard against a broken model; PiiNerTrainerTest scores the held-out part.
        assertThat(recall.get("PERSON")).isGreaterThanOrEqualTo(0.75);
        assertThat(recall.get("GPE")).isGreaterThanOrEqualTo(0.4);
        assertThat(counts.get("STREET_ADDRESS")[3]).as("addresses reported").isZero();
        precision.forEach((t, p) -> assertThat(p).as("precision " + t).isGreaterThanOrEqualTo(0.9));
    }

    private static boolean overlaps(PiiEntity p, JsonNode gold, boolean sameType) {
        return (!sameType || gold.get("entity_type").asText().equals(p.type()))
                && gold.get("start_position").asInt() < p.end()
                && p.start() < gold.get("end_position").asInt();
    }

    @Test
    void cachedNameFindingsGiveTheSameResult() {
        PiiDetector plain = new PiiDetector();
        PiiDetector cached = new PiiDetector("US", true, true);
        for (String text :
                List.of(
                        "Hi, I'm Maria Gonzalez, call me on +1 212 555 0123 or mail"
                                + " maria@example.org",
                        "Ship it to 17031 2202 Rissik St, Pretoria please",
                        "@lsurubaru Hi Lilian. Here is why this might happen.",
                        "nothing personal here")) {
            List<PiiEntity> expected = plain.detect(text);
            assertThat(cached.detect(text)).as(text).isEqualTo(expected);
            assertThat(cached.detect(text)).as("second call on " + text).isEqualTo(expected);
        }
    }
}
