package io.signalstream.agents.local;

import com.google.i18n.phonenumbers.PhoneNumberMatch;
import com.google.i18n.phonenumbers.PhoneNumberUtil;
import org.apache.commons.validator.routines.CreditCardValidator;
import org.apache.commons.validator.routines.EmailValidator;
import org.apache.commons.validator.routines.IBANValidator;
import org.apache.commons.validator.routines.InetAddressValidator;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Deterministic PII recognizer: candidates are found by regular expressions (or by libphonenumber
 * for phone numbers) and every candidate is validated by a library before it is reported. Entity
 * type names follow Microsoft Presidio.
 *
 * <table>
 *   <caption>Recognizers</caption>
 *   <tr><th>type</th><th>candidate</th><th>validation</th><th>score</th></tr>
 *   <tr><td>{@code CREDIT_CARD}</td><td>13-19 contiguous digits, or 4-4-4-(1..7) / 4-6-5 /
 *       4-6-4 groups separated consistently by one space or dash</td>
 *       <td>Commons Validator {@link CreditCardValidator} for Visa, Mastercard (incl. 2-series),
 *       Amex, Discover and Diners: issuer prefix, issuer length and Luhn check digit</td>
 *       <td>{@value #SCORE_CHECKSUM}</td></tr>
 *   <tr><td>{@code IBAN_CODE}</td><td>two letters, two check digits and the country's
 *       BBAN length of letters/digits, optionally in space separated groups; case-insensitive
 *       </td><td>{@link IBANValidator}: country format, length and ISO 7064 mod-97-10</td>
 *       <td>{@value #SCORE_CHECKSUM}</td></tr>
 *   <tr><td>{@code EMAIL_ADDRESS}</td><td>{@code local@domain.tld}</td>
 *       <td>{@link EmailValidator} (RFC 5322 syntax, known TLD)</td>
 *       <td>{@value #SCORE_EMAIL}</td></tr>
 *   <tr><td>{@code IP_ADDRESS}</td><td>dotted quad, or hex groups with at least two colons
 *       </td><td>{@link InetAddressValidator} IPv4 / IPv6</td><td>{@value #SCORE_IP}</td></tr>
 *   <tr><td>{@code PHONE_NUMBER}</td><td>libphonenumber {@code findNumbers} with default
 *       region {@code US}; then numbers written like one (grouped, 9-15 digits); then
 *       phone-shaped digit groups (7-15 digits, {@code +CC}, {@code (0)}, extensions) next to a
 *       phone word ("Phone:", "call me on", "fax") or valid in one of several regions' plans
 *       </td><td>{@link PhoneNumberUtil.Leniency#VALID}, or the shape plus context; never
 *       inside URLs, after an id word ("order", "account", "license"), or a date</td>
 *       <td>{@value #SCORE_PHONE}, {@value #SCORE_PHONE_REGION}, {@value #SCORE_PHONE_CONTEXT},
 *       {@value #SCORE_PHONE_FORMATTED}</td></tr>
 *   <tr><td>{@code PERSON}, {@code STREET_ADDRESS}, {@code GPE}</td><td>{@link PiiNameFinder}:
 *       OpenNLP maximum-entropy name finder trained on the Presidio synthetic set's training
 *       split, with shape checks for chat text</td><td>none</td><td>precision measured per
 *       probability bin on a calibration split (the entity's confidence); spans below 0.6 are
 *       not reported</td></tr>
 *   <tr><td>{@code US_SSN}</td><td>{@code AAA-GG-SSSS}; undashed or space separated nine
 *       digits only with a context word ("ssn", "ss#", "social security") in the preceding
 *       {@value #SSN_CONTEXT_WINDOW} chars</td><td>SSA rules: area not 000, 666 or 900-999,
 *       group not 00, serial not 0000</td><td>{@value #SCORE_SSN}</td></tr>
 * </table>
 *
 * <p>The scores are fixed confidence levels chosen for this project (checksum-validated identifiers
 * highest, purely syntactic ones lower), in the spirit of Presidio's recognizer scores; they order
 * overlapping findings. The calibrated probability of a finding is {@link #confidence}: each
 * level's measured precision on the Presidio set's training parts.
 *
 * <p>Overlapping findings are resolved greedily: higher score first, then the longer span, then the
 * earlier start. Instances are immutable and thread-safe.
 */
public final class PiiDetector {

    /** The types of the validated (not learned) recognizers. */
    public static final java.util.Set<String> VALIDATED_TYPES =
            java.util.Set.of(
                    "EMAIL_ADDRESS",
                    "CREDIT_CARD",
                    "IBAN_CODE",
                    "PHONE_NUMBER",
                    "US_SSN",
                    "IP_ADDRESS");

    /** File name of the validated recognizers' calibration, under {@code /models/}. */
    public static final String RECOGNIZER_CALIBRATION_FILE = "pii-recognizers.calibration.json";

    /**
     * The calibrated confidence of a finding: for the validated recognizers the measured precision
     * of its fixed score level on the Presidio set's training parts ({@value
     * #RECOGNIZER_CALIBRATION_FILE}, written by {@code eval train-pii}; a level it does not list
     * keeps its score); for the learned types the score, already calibrated ({@link
     * PiiNameFinder}). The {@code score} itself stays the fixed level that orders overlapping
     * findings.
     *
     * @param e a finding of this class
     * @return a probability in [0, 1] that the finding is PII of its type
     * @throws ExceptionInInitializerError on the first call if the calibration resource is missing
     *     or unreadable (a build error: it ships in this jar), {@link NoClassDefFoundError} after
     */
    public static double confidence(PiiEntity e) {
        Map<Double, Double> levels = RecognizerCalibration.LEVELS.get(e.type());
        if (levels == null) {
            return e.score();
        }
        return levels.getOrDefault(e.score(), e.score());
    }

    private static final class RecognizerCalibration {
        static final Map<String, Map<Double, Double>> LEVELS = load();

        private static Map<String, Map<Double, Double>> load() {
            String name = "/models/" + RECOGNIZER_CALIBRATION_FILE;
            try (java.io.InputStream in = PiiDetector.class.getResourceAsStream(name)) {
                if (in == null) {
                    throw new IllegalStateException("missing resource " + name);
                }
                com.fasterxml.jackson.databind.JsonNode root =
                        new com.fasterxml.jackson.databind.ObjectMapper().readTree(in);
                Map<String, Map<Double, Double>> out = new HashMap<>();
                root.path("levels")
                        .fields()
                        .forEachRemaining(
                                t -> {
                                    Map<Double, Double> m = new HashMap<>();
                                    t.getValue()
                                            .fields()
                                            .forEachRemaining(
                                                    l ->
                                                            m.put(
                                                                    Double.parseDouble(l.getKey()),
                                                                    l.getValue()
                                                                            .path("confidence")
                                                                            .asDouble()));
                                    out.put(t.getKey(), Map.copyOf(m));
                                });
                return Map.copyOf(out);
            } catch (java.io.IOException ex) {
                throw new IllegalStateException("cannot read " + name, ex);
            }
        }
    }

    /** Score of checksum-validated findings (credit card, IBAN). */
    public static final double SCORE_CHECKSUM = 1.0;

    /** Score of e-mail addresses. */
    public static final double SCORE_EMAIL = 0.95;

    /** Score of IPv4/IPv6 addresses. */
    public static final double SCORE_IP = 0.9;

    /** Score of phone numbers. */
    public static final double SCORE_PHONE = 0.85;

    /** Score of a phone number found by its formatting only (possible, not valid, number). */
    public static final double SCORE_PHONE_FORMATTED = 0.6;

    /** Score of US social security numbers. */
    public static final double SCORE_SSN = 0.85;

    /** Chars before an undashed SSN candidate searched for a context word. */
    public static final int SSN_CONTEXT_WINDOW = 40;

    /** Presidio entity type of e-mail addresses. */
    public static final String EMAIL_ADDRESS = "EMAIL_ADDRESS";

    /** Presidio entity type of payment card numbers. */
    public static final String CREDIT_CARD = "CREDIT_CARD";

    /** Presidio entity type of international bank account numbers. */
    public static final String IBAN_CODE = "IBAN_CODE";

    /** Presidio entity type of phone numbers. */
    public static final String PHONE_NUMBER = "PHONE_NUMBER";

    /** Presidio entity type of US social security numbers. */
    public static final String US_SSN = "US_SSN";

    /** Presidio entity type of IPv4 and IPv6 addresses. */
    public static final String IP_ADDRESS = "IP_ADDRESS";

    private static final Pattern EMAIL =
            Pattern.compile(
                    "(?<![\\w.%+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9-]+(?:\\.[A-Za-z0-9-]+)*"
                            + "\\.[A-Za-z]{2,}(?![\\w-])");
    private static final Pattern CARD =
            Pattern.compile(
                    "(?<![\\d-])(?:\\d{13,19}"
                            + "|\\d{4}([ -])\\d{4}\\1\\d{4}\\1\\d{1,7}"
                            + "|\\d{4}([ -])\\d{6}\\2\\d{4,5})(?![\\d]|-\\d)");
    private static final Pattern IBAN_START =
            Pattern.compile("(?<![\\p{L}\\p{N}])([A-Za-z]{2})(\\d{2})(?= ?[A-Za-z0-9])");
    private static final Pattern IPV4 =
            Pattern.compile("(?<![\\w.])(?:\\d{1,3}\\.){3}\\d{1,3}(?!\\.?\\d)(?![\\w])");
    private static final Pattern IPV6 =
            Pattern.compile(
                    "(?<![\\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|(?:\\d{1,3}\\.){3}\\d{1,3})?"
                        + "(?![\\w:])");
    private static final Pattern SSN =
            Pattern.compile("(?<![\\d-])(\\d{3})([- ]?)(\\d{2})\\2(\\d{4})(?![\\d]|-\\d)");
    private static final Pattern SSN_CONTEXT =
            Pattern.compile("\\b(?:ssn|ss#|social\\s+security)", Pattern.CASE_INSENSITIVE);
    private static final Pattern URL =
            Pattern.compile("(?:https?:\\s?//|www\\.)\\S+", Pattern.CASE_INSENSITIVE);
    private static final Pattern KEY_NOISE = Pattern.compile("[\\s().-]");

    private static final Comparator<PiiEntity> PRIORITY =
            Comparator.comparingDouble(PiiEntity::score)
                    .reversed()
                    .thenComparing(Comparator.comparingInt(PiiEntity::length).reversed())
                    .thenComparingInt(PiiEntity::start);

    private final CreditCardValidator cardValidator =
            new CreditCardValidator(
                    CreditCardValidator.AMEX
                            + CreditCardValidator.VISA
                            + CreditCardValidator.MASTERCARD
                            + CreditCardValidator.DISCOVER
                            + CreditCardValidator.DINERS);
    private final IBANValidator ibanValidator = IBANValidator.getInstance();
    private final EmailValidator emailValidator = EmailValidator.getInstance();
    private final InetAddressValidator ipValidator = InetAddressValidator.getInstance();
    private final PhoneNumberUtil phoneUtil = PhoneNumberUtil.getInstance();
    private final String defaultRegion;
    private final boolean names;
    private final boolean cachedNames;

    /**
     * Creates a detector whose phone numbers without {@code +} are parsed as US numbers first, with
     * the learned name finder ({@link PiiNameFinder}) on.
     */
    public PiiDetector() {
        this("US");
    }

    /**
     * Creates a detector with another default phone region, with the learned name finder on.
     *
     * @param defaultRegion ISO 3166-1 alpha-2 region for national phone numbers, e.g. "US"
     * @throws IllegalArgumentException if libphonenumber does not support the region
     */
    public PiiDetector(String defaultRegion) {
        this(defaultRegion, true);
    }

    /**
     * Creates a detector with another default phone region.
     *
     * @param defaultRegion ISO 3166-1 alpha-2 region for national phone numbers, e.g. "US"
     * @param names whether to run the learned recognizer of {@code PERSON}, {@code STREET_ADDRESS}
     *     and {@code GPE} ({@link PiiNameFinder#shared()}, loaded on first use)
     * @throws IllegalArgumentException if libphonenumber does not support the region
     */
    public PiiDetector(String defaultRegion, boolean names) {
        this(defaultRegion, names, false);
    }

    /**
     * Creates a detector whose name finder's findings may be cached.
     *
     * @param defaultRegion ISO 3166-1 alpha-2 region for national phone numbers, e.g. "US"
     * @param names whether to run the learned recognizer of {@code PERSON}, {@code STREET_ADDRESS}
     *     and {@code GPE}
     * @param cachedNames whether its findings come from {@link PiiNameFinder#findCached} (for
     *     callers that meet the same message several times, like the LLM path)
     * @throws IllegalArgumentException if libphonenumber does not support the region
     */
    public PiiDetector(String defaultRegion, boolean names, boolean cachedNames) {
        this.names = names;
        this.cachedNames = cachedNames;
        if (!PhoneNumberUtil.getInstance().getSupportedRegions().contains(defaultRegion)) {
            throw new IllegalArgumentException("unsupported phone region: " + defaultRegion);
        }
        this.defaultRegion = defaultRegion;
    }

    /**
     * Finds all PII in {@code text}.
     *
     * @param text text to analyse; may be empty
     * @return non-overlapping findings sorted by start offset (immutable)
     * @throws NullPointerException if text is null
     */
    public List<PiiEntity> detect(String text) {
        Objects.requireNonNull(text, "text");
        List<PiiEntity> found = new ArrayList<>();
        if (text.isBlank()) {
            return List.of();
        }
        // One pass counts what each recognizer needs at least; a recognizer that cannot match
        // (no '@' for an e-mail, fewer digits than a card or SSN has) is skipped. These are
        // necessary conditions of the patterns below, so the findings are the same.
        int asciiDigits = 0;
        int digits = 0;
        int colons = 0;
        boolean at = false;
        boolean dot = false;
        boolean grouping = false; // what PHONE_GROUPING needs: '+', '(' or digit, separator, digit
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '+'
                    || c == '('
                    || ((c == ' ' || c == '.' || c == '-')
                            && i > 0
                            && i + 1 < text.length()
                            && isAsciiDigit(text.charAt(i - 1))
                            && isAsciiDigit(text.charAt(i + 1)))) {
                grouping = true;
            }
            if (c >= '0' && c <= '9') {
                asciiDigits++;
                digits++;
            } else if (c == '@') {
                at = true;
            } else if (c == '.') {
                dot = true;
            } else if (c == ':') {
                colons++;
            } else if (c >= 0x80 && Character.isDigit(c)) {
                digits++;
            } else if (Character.isHighSurrogate(c)
                    && i + 1 < text.length()
                    && Character.isDigit(text.codePointAt(i))) {
                digits++;
            }
        }
        if (at) {
            findEmails(text, found);
        }
        if (asciiDigits >= 13) {
            findCards(text, found);
        }
        if (asciiDigits >= 2) {
            findIbans(text, found);
        }
        if ((asciiDigits >= 4 && dot) || colons >= 2) {
            findIps(text, found, asciiDigits >= 4 && dot, colons >= 2);
        }
        if (digits > 0) {
            findPhones(text, found, digits >= 9 && grouping, asciiDigits);
        }
        if (asciiDigits >= 9) {
            findSsns(text, found);
        }
        if (names) {
            List<PiiEntity> belowFloor;
            if (cachedNames) {
                PiiNameFinder.Findings f = PiiNameFinder.shared().findCached(text);
                found.addAll(f.reported());
                belowFloor = f.belowFloor();
            } else {
                belowFloor = new ArrayList<>();
                found.addAll(PiiNameFinder.shared().find(text, belowFloor));
            }
            // A number found by its formatting only that an address the finder saw but does not
            // report (below its floor) continues with a street name on the same line ("17031 2202
            // Rissik St") is a house number, not a phone.
            found.removeIf(e -> PHONE_NUMBER.equals(e.type()) && houseNumber(text, e, belowFloor));
        }
        return resolveOverlaps(found);
    }

    /**
     * Replaces each finding by a typed, numbered placeholder such as {@code <EMAIL_ADDRESS_1>}.
     * Numbers count per type from 1 in order of first appearance; the same value (compared
     * case-insensitively, ignoring spaces, dots, dashes and parentheses) gets the same placeholder
     * within one call. Findings overlapping an earlier kept finding are skipped.
     *
     * @param text the text the entities were detected in
     * @param entities findings with offsets into {@code text}, in any order
     * @return the redacted text
     * @throws NullPointerException if an argument is null
     * @throws IllegalArgumentException if an entity's end exceeds the text length
     */
    public String redact(String text, List<PiiEntity> entities) {
        Objects.requireNonNull(text, "text");
        Objects.requireNonNull(entities, "entities");
        List<PiiEntity> sorted = new ArrayList<>(entities);
        sorted.sort(
                Comparator.comparingInt(PiiEntity::start)
                        .thenComparing(Comparator.comparingInt(PiiEntity::length).reversed()));
        Map<String, Map<String, Integer>> numbers = new HashMap<>();
        StringBuilder out = new StringBuilder(text.length());
        int cursor = 0;
        for (PiiEntity e : sorted) {
            if (e.end() > text.length()) {
                throw new IllegalArgumentException(
                        "entity " + e + " exceeds text length " + text.length());
            }
            if (e.start() < cursor) {
                continue;
            }
            String key =
                    KEY_NOISE
                            .matcher(text.substring(e.start(), e.end()))
                            .replaceAll("")
                            .toLowerCase(Locale.ROOT);
            Map<String, Integer> byValue = numbers.computeIfAbsent(e.type(), t -> new HashMap<>());
            int n = byValue.computeIfAbsent(key, k -> byValue.size() + 1);
            out.append(text, cursor, e.start())
                    .append('<')
                    .append(e.type())
                    .append('_')
                    .append(n)
                    .append('>');
            cursor = e.end();
        }
        return out.append(text, cursor, text.length()).toString();
    }

    /** Convenience for {@code redact(text, detect(text))}. */
    public String redact(String text) {
        return redact(text, detect(text));
    }

    private void findEmails(String text, List<PiiEntity> out) {
        Matcher m = EMAIL.matcher(text);
        while (m.find()) {
            if (emailValidator.isValid(m.group())) {
                out.add(new PiiEntity(EMAIL_ADDRESS, m.start(), m.end(), SCORE_EMAIL, m.group()));
            }
        }
    }

    private void findCards(String text, List<PiiEntity> out) {
        Matcher m = CARD.matcher(text);
        while (m.find()) {
            String digits = m.group().replace(" ", "").replace("-", "");
            if (cardValidator.isValid(digits)) {
                out.add(new PiiEntity(CREDIT_CARD, m.start(), m.end(), SCORE_CHECKSUM, m.group()));
            }
        }
    }

    /**
     * From each "CCdd" start, consumes exactly the country's IBAN length of letters/digits,
     * allowing single spaces between chars, so trailing words are never swallowed.
     */
    private void findIbans(String text, List<PiiEntity> out) {
        Matcher m = IBAN_START.matcher(text);
        int from = 0;
        while (from < text.length() && m.find(from)) {
            from = m.end();
            String country = m.group(1).toUpperCase(Locale.ROOT);
            IBANValidator.Validator v = ibanValidator.getValidator(country + m.group(2));
            if (v == null) {
                continue;
            }
            StringBuilder iban = new StringBuilder(country).append(m.group(2));
            int i = m.end();
            while (iban.length() < v.getIbanLength() && i < text.length()) {
                char c = text.charAt(i);
                if (c == ' ' && i + 1 < text.length() && isAsciiAlnum(text.charAt(i + 1))) {
                    i++;
                    continue;
                }
                if (!isAsciiAlnum(c)) {
                    break;
                }
                iban.append(Character.toUpperCase(c));
                i++;
            }
            boolean boundary = i >= text.length() || !Character.isLetterOrDigit(text.charAt(i));
            if (boundary
                    && iban.length() == v.getIbanLength()
                    && ibanValidator.isValid(iban.toString())) {
                out.add(
                        new PiiEntity(
                                IBAN_CODE,
                                m.start(),
                                i,
                                SCORE_CHECKSUM,
                                text.substring(m.start(), i)));
                from = i;
            }
        }
    }

    private void findIps(String text, List<PiiEntity> out, boolean v4, boolean v6) {
        Matcher m4 = IPV4.matcher(text);
        while (v4 && m4.find()) {
            if (ipValidator.isValidInet4Address(m4.group())) {
                out.add(new PiiEntity(IP_ADDRESS, m4.start(), m4.end(), SCORE_IP, m4.group()));
            }
        }
        Matcher m6 = IPV6.matcher(text);
        while (v6 && m6.find()) {
            String s = m6.group();
            if (s.length() >= 3
                    && s.chars().anyMatch(c -> Character.digit(c, 16) >= 0)
                    && ipValidator.isValidInet6Address(s)) {
                out.add(new PiiEntity(IP_ADDRESS, m6.start(), m6.end(), SCORE_IP, s));
            }
        }
    }

    private static boolean isAsciiDigit(char c) {
        return c >= '0' && c <= '9';
    }

    /**
     * Phone numbers; digit runs inside URLs (article ids, paths) are ignored. The second,
     * formatted-number pass only runs if it can find something ({@code formatted}): the text has at
     * least 9 digits and something {@code PHONE_GROUPING} matches.
     */
    private void findPhones(String text, List<PiiEntity> out, boolean formatted, int digitsTotal) {
        List<int[]> urls = new ArrayList<>();
        Matcher u = URL.matcher(text);
        while (u.find()) {
            urls.add(new int[] {u.start(), u.end()});
        }
        List<int[]> found = new ArrayList<>();
        for (PhoneNumberMatch pm :
                phoneUtil.findNumbers(
                        text, defaultRegion, PhoneNumberUtil.Leniency.VALID, Long.MAX_VALUE)) {
            if (urls.stream().anyMatch(r -> pm.start() >= r[0] && pm.end() <= r[1])) {
                continue;
            }
            found.add(new int[] {pm.start(), pm.end()});
            out.add(new PiiEntity(PHONE_NUMBER, pm.start(), pm.end(), SCORE_PHONE, pm.rawString()));
        }
        // Numbers not valid in the default region's plan (foreign, or made up) are still phone
        // numbers when they are written like one: a possible number by libphonenumber of 9 to
        // 15 digits, grouped with phone separators (no one-digit groups) or with an
        // international prefix. A bare digit run (an order or tweet id), a version number, a
        // date or a short local number needs the VALID match above.
        if (formatted) {
            findFormattedPhones(text, out, found, urls);
        }
        if (digitsTotal >= 7) {
            findContextPhones(text, out, found, urls);
        }
    }

    private void findFormattedPhones(
            String text, List<PiiEntity> out, List<int[]> found, List<int[]> urls) {
        for (PhoneNumberMatch pm :
                phoneUtil.findNumbers(
                        text, defaultRegion, PhoneNumberUtil.Leniency.POSSIBLE, Long.MAX_VALUE)) {
            String raw = pm.rawString();
            if (found.stream().anyMatch(r -> pm.start() < r[1] && r[0] < pm.end())
                    || urls.stream().anyMatch(r -> pm.start() >= r[0] && pm.end() <= r[1])
                    || !PHONE_GROUPING.matcher(raw).find()
                    || DATE_LIKE.matcher(raw).matches()) {
                continue;
            }
            long digits = raw.chars().filter(Character::isDigit).count();
            long distinct = raw.chars().filter(Character::isDigit).distinct().count();
            // distinct > 2: placeholders such as 000-000-0000 or 555-555-5555 are not numbers.
            if (digits >= 9
                    && digits <= 15
                    && distinct > 2
                    && !SINGLE_DIGIT_GROUP.matcher(raw).find()
                    && phoneContext(text, pm.start(), pm.end()) >= 0) {
                found.add(new int[] {pm.start(), pm.end()});
                out.add(
                        new PiiEntity(
                                PHONE_NUMBER, pm.start(), pm.end(), SCORE_PHONE_FORMATTED, raw));
            }
        }
    }

    /**
     * Third pass: digit groups shaped like a phone number (7 to 15 digits, optional {@code +CC},
     * {@code (0)}, area code in parentheses, extension) that libphonenumber's US plan does not
     * take. One is reported if a phone word stands just before it ("Phone:", "call me on", "fax")
     * or just after it ("-Office", " fax") and no id word ("order", "account", "license", "box",
     * ...) stands closer, or the number starts a line below a line with a phone word that does not
     * end in an id word ({@link #SCORE_PHONE_CONTEXT}, or {@link #SCORE_PHONE_REGION} if it is also
     * valid in one of {@link #PHONE_REGIONS}); or, without a phone word, if it is grouped, has at
     * least 10 digits, starts with a national trunk prefix or {@code +}, is valid in one of {@link
     * #PHONE_REGIONS} and has no id word before it ({@link #SCORE_PHONE_REGION}).
     */
    private void findContextPhones(
            String text, List<PiiEntity> out, List<int[]> found, List<int[]> urls) {
        Matcher m = PHONE_SHAPE.matcher(text);
        while (m.find()) {
            int start = m.start();
            int end = m.end();
            if (found.stream().anyMatch(r -> start < r[1] && r[0] < end)
                    || urls.stream().anyMatch(r -> start >= r[0] && end <= r[1])) {
                continue;
            }
            String raw = m.group();
            String main = m.group(1);
            long digits = main.chars().filter(PiiDetector::isAsciiDigitInt).count();
            long distinct = main.chars().filter(PiiDetector::isAsciiDigitInt).distinct().count();
            if (digits < 7
                    || digits > 15
                    || distinct <= 2
                    || containsDate(main)
                    || isSequence(main)) {
                continue;
            }
            int context = phoneContext(text, start, end);
            if (context < 0) {
                continue;
            }
            boolean grouped = !main.chars().allMatch(PiiDetector::isAsciiDigitInt);
            boolean validSomewhere = validInSomeRegion(raw);
            double score;
            if (context > 0) {
                score = validSomewhere ? SCORE_PHONE_REGION : SCORE_PHONE_CONTEXT;
            } else if (validSomewhere
                    && grouped
                    && digits >= 10
                    && (main.startsWith("+") || main.startsWith("0") || main.startsWith("("))) {
                score = SCORE_PHONE_REGION;
            } else {
                continue;
            }
            found.add(new int[] {start, end});
            out.add(new PiiEntity(PHONE_NUMBER, start, end, score, raw));
        }
    }

    private boolean validInSomeRegion(String raw) {
        for (String region : PHONE_REGIONS) {
            try {
                if (phoneUtil.isValidNumber(phoneUtil.parse(raw, region))) {
                    return true;
                }
            } catch (com.google.i18n.phonenumbers.NumberParseException e) {
                // not a number in this region's plan
            }
        }
        return false;
    }

    /**
     * Phone context around {@code [start, end)}: 1 if a phone word is within {@value
     * #PHONE_CONTEXT_WINDOW} chars before (and no id word after it) or directly after the number,
     * -1 if an id word is the closest word before, else 0.
     */
    private static int phoneContext(String text, int start, int end) {
        String after = text.substring(end, Math.min(text.length(), end + 12));
        if (PHONE_WORD_AFTER.matcher(after).lookingAt()) {
            return 1;
        }
        String before = text.substring(Math.max(0, start - PHONE_CONTEXT_WINDOW), start);
        int lineStart = before.lastIndexOf('\n');
        if (lineStart >= 0 && before.substring(lineStart + 1).isBlank()) {
            // A number alone at the start of a line is labelled by the line above: "This is the
            // phone where the account was created.\n01120738976". That line's id word counts
            // only when it ends the line ("Account number:\n...").
            int from = text.lastIndexOf('\n', start - before.length() + lineStart - 1) + 1;
            String label = text.substring(from, start - before.length() + lineStart).strip();
            int idEnd = lastMatchEnd(ID_WORD, label);
            if (idEnd >= 0 && ID_LABEL_END.matcher(label.substring(idEnd)).matches()) {
                return -1;
            }
            if (lastMatchEnd(PHONE_WORD, label) >= 0) {
                return 1;
            }
        }
        int phoneAt = lastMatchEnd(PHONE_WORD, before);
        int idAt = lastMatchEnd(ID_WORD, before);
        if (idAt >= 0 && idAt >= phoneAt) {
            return -1;
        }
        return phoneAt >= 0 ? 1 : 0;
    }

    /** What may follow an id word that labels the next line ("Account number:", "Order #"). */
    private static final Pattern ID_LABEL_END = Pattern.compile("[\\s:.#\\-]*");

    /** True for placeholder runs such as 123-4567 or 98765 4321 (consecutive digits). */
    private static boolean isSequence(String s) {
        String d = s.replaceAll("\\D", "");
        return "01234567890123456789".contains(d) || "98765432109876543210".contains(d);
    }

    private static int lastMatchEnd(Pattern p, String s) {
        Matcher m = p.matcher(s);
        int last = -1;
        while (m.find()) {
            last = m.end();
        }
        return last;
    }

    /** True if {@code s} holds a plausible date (a month 1-12 and a day 1-31 among the parts). */
    private static boolean containsDate(String s) {
        Matcher m = DATE_PARTS.matcher(s);
        while (m.find()) {
            int a = Integer.parseInt(m.group(1));
            int b = Integer.parseInt(m.group(2));
            int c = Integer.parseInt(m.group(3));
            boolean ymd = m.group(1).length() == 4 && b >= 1 && b <= 12 && c >= 1 && c <= 31;
            boolean dmy = a >= 1 && a <= 31 && b >= 1 && b <= 12;
            boolean mdy = a >= 1 && a <= 12 && b >= 1 && b <= 31;
            if (ymd || (m.group(1).length() <= 2 && (dmy || mdy))) {
                return true;
            }
        }
        return false;
    }

    private static final Pattern DATE_PARTS =
            Pattern.compile("(?<!\\d)(\\d{1,4})[-./](\\d{1,2})[-./](\\d{2,4})(?!\\d)");

    private static boolean isAsciiDigitInt(int c) {
        return c >= '0' && c <= '9';
    }

    /** Default regions tried for a number written without {@code +}, most used first. */
    static final List<String> PHONE_REGIONS =
            List.of("US", "GB", "DE", "FR", "IN", "AU", "CA", "NL", "ES", "IT", "BR", "ZA", "CH");

    /** Chars before a number searched for a phone or id word. */
    public static final int PHONE_CONTEXT_WINDOW = 32;

    /** Score of a phone-shaped number with a phone word near it. */
    public static final double SCORE_PHONE_CONTEXT = 0.7;

    /** Score of a phone-shaped number valid in one of several regions' plans. */
    public static final double SCORE_PHONE_REGION = 0.8;

    /**
     * Phone shape: optional {@code +CC} or {@code 00CC}, optional {@code (0)} or {@code (area)},
     * digit groups of 2 to 5 (first may be 1 to 5) separated by one space, dot or dash, or a bare
     * run of 7 to 12 digits; then an optional extension ({@code x123}, {@code ext. 123}). Group 1
     * is the number without the extension.
     */
    private static final Pattern PHONE_SHAPE =
            Pattern.compile(
                    "(?<![\\w+.\\-/])((?:\\+\\d{1,3}[ .\\-]?)?(?:\\(0\\)[ ]?)?(?:\\(\\d{2,5}\\)["
                            + " .\\-]?)?(?:\\d{1,5}(?:[ .\\-]\\d{2,8}){1,5}|\\d{6,12}))(?:["
                            + " ]?(?:x|ext\\.?|extension)[ ]?\\d{1,6})?(?![\\w]|[.\\-/]\\d)",
                    Pattern.CASE_INSENSITIVE);

    /** Words that introduce a phone number. */
    private static final Pattern PHONE_WORD =
            Pattern.compile(
                    "(?<![\\p{L}])(?:phone|tel|telephone|mob|mobile|cell|cellphone|fax|desk|office"
                            + "|home|work|call|calling|ring|dial|text|sms|message|messages|whatsapp"
                            + "|reach|contact|hotline|landline|registered|answering"
                            + "|helpline)(?![\\p{L}])",
                    Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE);

    /** Words after a number that label it as a phone ("-Office", " fax"). */
    private static final Pattern PHONE_WORD_AFTER =
            Pattern.compile(
                    "[ \\-]?\\(?(?:office|fax|mobile|cell|home|work|phone|tel)(?![\\p{L}])",
                    Pattern.CASE_INSENSITIVE);

    /** Words that introduce an identifier, not a phone number. */
    private static final Pattern ID_WORD =
            Pattern.compile(
                    "(?<![\\p{L}])(?:order|ticket|case|ref|reference|account|acct|invoice|tracking"
                            + "|confirmation|booking|id|license|licence|passport|ssn|card|routing"
                            + "|serial|model|flight|zip|postal|postcode|box|apt|suite|unit|room"
                            + "|iban|pin|code|policy|member|customer|transaction|receipt|version"
                            + "|#)(?![\\p{L}])(?:\\s*(?:number|no\\.?|nr\\.?|#))?",
                    Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE);

    /** A phone separator between digit groups, or a leading international prefix. */
    private static final Pattern PHONE_GROUPING = Pattern.compile("^\\+|\\d[ .\\-]\\d|\\(\\d+\\)");

    /** A one-digit group between separators, as in versions (8.5.50) or specs (5 3600 3.6). */
    private static final Pattern SINGLE_DIGIT_GROUP = Pattern.compile("(^|[ .\\-])\\d([ .\\-]|$)");

    /** Dates and times written with separators (2020-04-01, 01.04.2020, 4/1/20). */
    private static final Pattern DATE_LIKE =
            Pattern.compile("\\d{4}[-./]\\d{1,2}[-./]\\d{1,2}|\\d{1,2}[-./]\\d{1,2}[-./]\\d{2,4}");

    private void findSsns(String text, List<PiiEntity> out) {
        Matcher m = SSN.matcher(text);
        while (m.find()) {
            int area = Integer.parseInt(m.group(1));
            if (area == 0
                    || area == 666
                    || area >= 900
                    || m.group(3).equals("00")
                    || m.group(4).equals("0000")) {
                continue;
            }
            boolean dashed = m.group(2).equals("-");
            if (!dashed
                    && !SSN_CONTEXT
                            .matcher(
                                    text.substring(
                                            Math.max(0, m.start() - SSN_CONTEXT_WINDOW), m.start()))
                            .find()) {
                continue;
            }
            out.add(new PiiEntity(US_SSN, m.start(), m.end(), SCORE_SSN, m.group()));
        }
    }

    private static boolean houseNumber(String text, PiiEntity phone, List<PiiEntity> belowFloor) {
        int e = phone.end();
        if (phone.score() >= SCORE_PHONE
                || e + 1 >= text.length()
                || text.charAt(e) != ' '
                || !Character.isUpperCase(text.charAt(e + 1))) {
            return false;
        }
        for (PiiEntity b : belowFloor) {
            if ("STREET_ADDRESS".equals(b.type()) && b.overlaps(phone) && b.end() > e + 1) {
                return true;
            }
        }
        return false;
    }

    private static List<PiiEntity> resolveOverlaps(List<PiiEntity> found) {
        found.sort(PRIORITY);
        List<PiiEntity> kept = new ArrayList<>();
        for (PiiEntity candidate : found) {
            if (kept.stream().noneMatch(candidate::overlaps)) {
                kept.add(candidate);
            }
        }
        kept.sort(Comparator.comparingInt(PiiEntity::start));
        return List.copyOf(kept);
    }

    private static boolean isAsciiAlnum(char c) {
        return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
    }
}
