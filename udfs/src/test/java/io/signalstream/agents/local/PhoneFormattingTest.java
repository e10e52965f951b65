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

    @Test
    void shortAndForeignNumbersNextToAPhoneWordAreFound() {
        assertThat(phones("Personal Info:\nPhone:\n467 3395\n")).containsExactly("467 3395");
        assertThat(phones("Can someone call me on 0490 75 40 81?"))
                .containsExactly("0490 75 40 81");
        assertThat(phones("Mobile: 99 577450")).containsExactly("99 577450");
        assertThat(phones("stop sending messages to 60-56-85-91")).containsExactly("60-56-85-91");
        assertThat(phones("Box 9168\n416 60 039 office\n")).containsExactly("416 60 039");
        assertThat(phones("Fax: 9498777106")).containsExactly("9498777106");
    }

    @Test
    void aNumberOnTheLineBelowAPhoneWordIsFoundUnlessThatLineEndsInAnIdWord() {
        assertThat(
                        phones(
                                "This is the phone where the account was created.\n"
                                        + "01120738976 only"))
                .containsExactly("01120738976");
        assertThat(phones("My phone broke, so here is the account number:\n01120738976")).isEmpty();
        assertThat(phones("The account was created.\n01120738976 only")).isEmpty();
    }

    @Test
    void extensionsTrunkPrefixesAndOtherRegionsAreFound() {
        assertThat(phones("Tel: +49 30 1234567 ext. 12")).containsExactly("+49 30 1234567 ext. 12");
        assertThat(phones("Desk: (898)666-3621x0135")).containsExactly("(898)666-3621x0135");
        assertThat(phones("Desk: +41 (0)96 471 07 95")).containsExactly("+41 (0)96 471 07 95");
        // A UK mobile number, valid in the GB plan, without any phone word.
        assertThat(phones("they never answered 079 2718 1155 today"))
                .containsExactly("079 2718 1155");
        assertThat(pii.detect("they never answered 079 2718 1155 today").get(0).score())
                .isEqualTo(PiiDetector.SCORE_PHONE_REGION);
    }

    @Test
    void idsOrdersDatesAndCardsNextToAPhoneWordAreNot() {
        assertThat(phones("call about order number 12345678 please")).isEmpty();
        assertThat(phones("my account no. 4471 2290 88, call me")).isEmpty();
        assertThat(phones("my driver's license number is 2270-66-1551")).isEmpty();
        assertThat(phones("call me on 12.05.2021 at 10.30")).isEmpty();
        assertThat(phones("phone bill of 2020-04-01")).isEmpty();
        assertThat(phones("ticket 1497421950, call us")).isEmpty();
        assertThat(phones("call 1111 111 111")).isEmpty();
        assertThat(phones("my card 4111 1111 1111 1111, call me"))
                .as("a card number is a card, not a phone")
                .isEmpty();
        assertThat(phones("see https://example.com/call/55512345678 now")).isEmpty();
    }
}
