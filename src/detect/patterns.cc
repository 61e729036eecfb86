#include "src/detect/patterns.h"

#include "src/detect/validators.h"

namespace phigate::detect {
namespace {

using C = PhiCategory;

// Reusable fragments. Keep them free of capture groups: group 1 is the value.
#define MONTH                                                                                      \
  "(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)" \
  "?|"                                                                                             \
  "oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
#define DAY "(?:0?[1-9]|[12][0-9]|3[01])"
#define MON "(?:0?[1-9]|1[0-2])"
#define ORD "(?:st|nd|rd|th)"
#define TIME \
  "(?:[ T@]+(?:at\\s+)?(?:[01]?[0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9])?(?:\\s?[ap]\\.?m\\.?)?)?"
#define SEP "\\s*(?:#|no\\.?|num(?:ber)?\\.?|nbr)?\\s*[:#=]?\\s*"
#define STREET_SUFFIX_TITLE                                                                  \
  "(?:Street|St|Avenue|Ave|Av|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Circle|Cir|"  \
  "Terrace|Ter|Parkway|Pkwy|Highway|Hwy|Route|Rte|Square|Sq|Trail|Trl|Alley|Plaza|Plz|Pike|" \
  "Turnpike|Tpke|Expressway|Expy|Freeway|Fwy|Place|Pl|Way|Crescent|Cres|Loop|Ridge|Heights)"
#define STREET_SUFFIX_UPPER                                                                  \
  "(?:STREET|ST|AVENUE|AVE|AV|ROAD|RD|BOULEVARD|BLVD|LANE|LN|DRIVE|DR|COURT|CT|CIRCLE|CIR|"  \
  "TERRACE|TER|PARKWAY|PKWY|HIGHWAY|HWY|ROUTE|RTE|SQUARE|SQ|TRAIL|TRL|ALLEY|PLAZA|PLZ|PIKE|" \
  "TURNPIKE|TPKE|EXPRESSWAY|EXPY|FREEWAY|FWY|PL|WAY|CRESCENT|CRES|LOOP)"
#define IDV "([a-z0-9](?:[a-z0-9]|[-/.][a-z0-9]){3,24})"
#define IDNUM "([a-z]{0,3}[0-9](?:[a-z0-9]|[-.][a-z0-9]){3,24})"

constexpr PatternSpec
    kPatterns[] =
        {
            // ---- (F) email, (N) URL, (O) IP
            {"email",
             R"(\b[a-z0-9][a-z0-9._%+\-]*@[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?(?:\.[a-z0-9\-]+)*\.[a-z]{2,24}\b)",
             C::kEmail, 0.95f},
            {"url_scheme", R"(\b(?:https?|ftp|sftp)://[^\s<>"'\)\]]+)", C::kUrl, 0.95f},
            {"url_www", R"(\bwww\.[a-z0-9\-]+(?:\.[a-z0-9\-]+)+(?:/[^\s<>"'\)\]]*)?)", C::kUrl,
             0.9f},
            {"url_domain",
             R"(\b[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?(?:\.[a-z0-9\-]+)*\.(?:com|org|net|edu|gov|io|info|biz|us|health|care|co\.uk|mil)(?:/[^\s<>"'\)\]]*)?\b)",
             C::kUrl, 0.7f},
            {"ipv4", R"(\b((?:[0-9]{1,3}\.){3}[0-9]{1,3})\b)", C::kIp, 0.9f, true, &Ipv4Valid},
            {"ipv6_full", R"(\b((?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4})\b)", C::kIp, 0.9f, true,
             &Ipv6Valid},
            {"ipv6_compressed",
             R"re((?:^|[^0-9a-z:])((?:[0-9a-f]{1,4}:){1,6}:(?:[0-9a-f]{1,4}(?::[0-9a-f]{1,4}){0,5})?|::(?:[0-9a-f]{1,4}:){0,5}[0-9a-f]{1,4})(?:$|[^0-9a-z:]))re",
             C::kIp, 0.85f, true, &Ipv6Valid},

            // ---- (G) SSN, full or partial
            {"ssn_dashed", R"(\b([0-9]{3}-[0-9]{2}-[0-9]{4})\b)", C::kSsn, 0.85f, true, &SsnValid,
             0.6f},
            {"ssn_spaced", R"(\b([0-9]{3} [0-9]{2} [0-9]{4})\b)", C::kSsn, 0.6f, true, &SsnValid},
            {"ssn_labelled",
             R"(\b(?:ssn|ss#|s\.s\.n\.?|soc(?:ial)?\.?\s+sec(?:urity)?\.?(?:\s+(?:number|no\.?|#))?)\s*(?:#|no\.?|number)?\s*[:#=]?\s*(?:ending\s+in\s+|last\s+(?:4|four)\s*(?:digits)?\s*[:#]?\s*)?(?:[x*#]{3}[- ]?[x*#]{2}[- ]?)?((?:[0-9]{3}[- ]?[0-9]{2}[- ]?)?[0-9]{4})\b)",
             C::kSsn, 0.95f},
            {"ssn_masked", R"((?:^|[^0-9a-z#*])(?:[x*#]{3}[- ]?[x*#]{2}[- ]?)([0-9]{4})\b)",
             C::kSsn, 0.85f},
            {"ssn_last4",
             R"(\blast\s+(?:4|four)(?:\s+digits)?\s+(?:of\s+)?(?:(?:her|his|the|their|pt'?s|patient'?s)\s+)?(?:ssn|social(?:\s+security)?(?:\s+number)?)\s*(?:is|:|#|=)?\s*([0-9]{4})\b)",
             C::kSsn, 0.95f},

            // ---- (D)/(E) phone and fax
            {"phone_us",
             R"((?:\+?1[\s.\-]?)?(?:\([0-9]{3}\)\s*|\b[0-9]{3}[\s.\-/])[0-9]{3}[\s.\-][0-9]{4}\b(?:\s*(?:x|ext\.?|extension)\s*[0-9]{1,6}\b)?)",
             C::kPhone, 0.85f},
            {"phone_us_compact", R"(\b(?:\+?1)?\(?[2-9][0-9]{2}\)?[0-9]{3}[0-9]{4}\b)", C::kPhone,
             0.4f},
            {"phone_local",
             R"(\b([2-9][0-9]{2}[\-.][0-9]{4}(?:\s*(?:x|ext\.?|extension)\s*[0-9]{1,6})?)\b)",
             C::kPhone, 0.5f},
            {"phone_paren_odd", R"(\([0-9]{3}[0-9]{3}[\-.][0-9]{4}\))", C::kPhone, 0.8f},
            // A spaced number in brackets whose last group has a digit too many
            // (a typo): "(410 555 01234)". The 3-3-4 form is phone_us.
            {"phone_paren_spaced", R"(\(([2-9][0-9]{2} [0-9]{3} [0-9]{5})\))", C::kPhone, 0.6f},
            {"phone_intl",
             R"(\+(?:[0-9]{1,3})[\s.\-]?\(?[0-9]{1,4}\)?(?:[\s.\-]?[0-9]{2,4}){2,4}\b(?:\s*(?:x|ext\.?)\s*[0-9]{1,6}\b)?)",
             C::kPhone, 0.85f},
            {"phone_labelled",
             R"(\b(?:phone|ph|tel|telephone|cell|mobile|mob|home|work|office|beeper|pager|pgr|pg|page|call|contact|number|reached\s+at|extension|ext)\s*(?:phone|number|num|no\.?|#)?\s*[:#=.]?\s*#?\s*((?:\(?\+?[0-9][0-9()\s.\-]{2,18}[0-9])|[0-9]{3,7})\b(?:\s*(?:x|ext\.?|extension)\s*[0-9]{1,6}\b)?)",
             C::kPhone, 0.8f},
            {"phone_reach_me",
             R"(\b(?:call(?:\s+me)?\s+(?:at|on)|reach(?:ed)?\s+(?:me\s+)?(?:at|on)|text(?:\s+me)?\s+(?:at|on)|answering\s+at|messages\s+to|registered(?:\s+(?:phone|number|mobile))?)\s+(\(?\+?[0-9]{2,4}\)?(?:[\s.\-][0-9]{2,4}){1,4})\b)",
             C::kPhone, 0.85f},
            {"fax_labelled",
             R"(\bfax\s*(?:number|no\.?|#)?\s*[:#=]?\s*((?:\+?1[\s.\-]?)?\(?[0-9]{3}\)?[\s.\-]?[0-9]{3}[\s.\-]?[0-9]{4}(?:\s*(?:x|ext\.?)\s*[0-9]{1,6})?))",
             C::kFax, 0.95f},

            // ---- (C) dates: numeric, written, partial; with times
            {"date_mdy_slash",
             R"(\b)" MON "/" DAY "/"
             R"((?:[0-9]{4}|[0-9]{2}))" TIME R"(\b)",
             C::kDate, 0.95f},
            {"date_mdy_dash",
             R"(\b)" MON "-" DAY "-"
             R"((?:[0-9]{4}|[0-9]{2}))" TIME R"(\b)",
             C::kDate, 0.9f},
            {"date_mdy_dot", R"(\b)" MON R"(\.)" DAY R"(\.(?:[0-9]{4}|[0-9]{2})\b)", C::kDate,
             0.7f},
            {"date_md_dot_y", R"(\b)" MON "/" DAY R"(\.[0-9]{2}\b)", C::kDate, 0.7f},
            {"date_md", R"((?:^|[^0-9./:])()" MON "/" DAY R"()(?:$|[^0-9/]))", C::kDate, 0.6f},
            {"date_md_dash",
             R"(\b(?:on|from|since|dated|of|until|till|by|admitted|discharged|seen|mtg|meeting|)"
             R"(appt|comparison|note):?\s+()" MON "-" DAY R"()(?:$|[\s)\],;:.]))",
             C::kDate, 0.7f},
            {"date_my", R"((?:^|[^0-9./:])()" MON R"(/(?:19|20)?[0-9]{2})(?:$|[^0-9/]))", C::kDate,
             0.5f},
            {"date_range", R"(\b)" MON "/" DAY R"(\s*-\s*)" MON "/" DAY R"(\b)", C::kDate, 0.8f},
            {"date_iso", R"(\b(?:19|20)[0-9]{2}[\-/.])" MON R"([\-/.])" DAY TIME R"(\b)", C::kDate,
             0.95f},
            {"date_compact_ymd",
             R"(\b(?:19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])\b)", C::kDate, 0.5f},
            // A six-digit month-day-year date standing alone ("seen 110324"), not
            // part of a longer number, a decimal or a code.
            {"date_compact_mdy",
             R"((?:^|[\s(,;])((?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{2})(?:$|[\s),;]|\.(?:$|[^0-9])))",
             C::kDate, 0.5f},
            // A two-digit year opening a history item before a procedure ("PMH:
            // DM. 04 CABG x3. 11 PTCA to RCA").
            {"date_year_before_procedure",
             R"((?:^|\n\s*|[.;:]\s+)([0-9]{2})\s+(?:ptca|cabg|stent|pci|avr|mvr|cath|mi|angioplasty|bypass|ppm|aicd|icd)\b)",
             C::kDate, 0.5f},
            {"date_month_day",
             R"(\b)" MONTH R"(\.?\s+)" DAY ORD R"(?(?:,?\s+(?:'|’)?[0-9]{2,4})?)" TIME R"(\b)",
             C::kDate, 0.9f},
            {"date_day_month",
             R"(\b)" DAY ORD R"(?\s+(?:of\s+)?)" MONTH R"(\.?(?:,?\s+(?:'|’)?[0-9]{2,4})?\b)",
             C::kDate, 0.9f},
            {"date_day_mon_year",
             R"(\b)" DAY R"([\-/ ])" MONTH R"(\.?[\-/ ](?:19|20)?[0-9]{2})" TIME R"(\b)", C::kDate,
             0.9f},
            {"date_month_year", R"(\b()" MONTH R"()\.?(?:\s+of)?,?\s+(?:'|’)?(?:19|20)[0-9]{2}\b)",
             C::kDate, 0.8f},
            {"date_month_apos_year", R"(\b()" MONTH R"()\.?\s*(?:'|’)[0-9]{2}\b)", C::kDate, 0.8f},
            {"date_month_word",
             R"(\b(?:in|on|since|until|till|by|of|from|early|late|mid|last|next|this|during|before|after)\s+()" MONTH
             R"()\b)",
             C::kDate, 0.6f},
            {"date_ordinal_ctx",
             R"(\b(?:on|the|since|until|till|by|from|before|after|it'?s|is)\s+(?:the\s+)?((?:[1-9]|[12][0-9]|3[01])(?:st|nd|rd|th))\b)",
             C::kDate, 0.55f},
            {"date_dob_label",
             R"(\b(?:dob|d\.o\.b\.?|date\s+of\s+birth|birth\s*date|born(?:\s+on)?)\s*[:#=]?\s*([0-9]{1,2}[/\-.][0-9]{1,2}[/\-.][0-9]{2,4}|[0-9]{6,8}))",
             C::kDate, 0.95f},
            {"date_apostrophe_year", R"((?:^|[\s(,])(?:'|’)([0-9]{2})\b)", C::kDate, 0.5f},
            {"date_md_after_word", R"([a-z]\.()" MON "/" DAY R"()(?:$|[^0-9/]))", C::kDate, 0.6f},
            {"date_holiday",
             R"(\b(?:christmas(?:\s+eve)?|thanksgiving|new\s+year'?s(?:\s+(?:eve|day))?|easter|halloween|independence\s+day|memorial\s+day|labor\s+day|valentine'?s\s+day)\b)",
             C::kDate, 0.5f},

            // ---- (C) ages over 89: the number only
            {"age_over_89",
             R"(\b(9[0-9]|1[0-1][0-9])(?:\s*|-)(?:y/?o\b|yo\b|y\.o\.?|yrs?\b|years?\b|yr\.|-year|year-old|years-old|yr-old|y-o\b|yof\b|yom\b))",
             C::kAge, 0.9f},
            {"age_over_89_label",
             R"(\b(?:age[ds]?|aged|age/sex|age/gender)\s*[:=]?\s*(9[0-9]|1[0-1][0-9])\b)", C::kAge,
             0.9f},
            // Age + sex shorthand before the note's verb: "97M with headache",
            // "95F admitted", "92 M s/p fall", "101M unrestrained driver"; a
            // temperature ("Tmax 101F w/ chills") is vetoed by the word before
            // it (Vetoed()).
            {"age_over_89_sex",
             R"(\b(9[0-9]|1[0-1][0-9])\s?[mf]\s+(?:w/|s/p|h/o|c/o|(?:w|with|who|presents?|presenting|admitted|admit|transferred|hx|pmh|here|seen|is|was|had|has|complaining|brought|found|referred|)"
             R"((?:un)?restrained|driver|passenger|pedestrian|patient|pt)\b))",
             C::kAge, 0.9f},
            {"age_over_89_nonagenarian", R"(\b(nonagenarian|centenarian)\b)", C::kAge, 0.6f},

            // ---- (H) MRN, (I) health plan, (J) account, (K) licences, (L) vehicles, (M)
            // devices
            {"mrn_labelled",
             R"(\b(?:mrn|mr#|mr\s*no\.?|med(?:ical)?\s*rec(?:ord)?s?(?:\s*(?:number|no\.?|#|num))?|unit\s*(?:no\.?|number|#)|hospital\s*(?:number|no\.?|#)|chart\s*(?:number|no\.?|#))\s*(?:#|no\.?|number|num)?\s*[:#=]?\s*)",
             C::kMrn, 0.95f, true, nullptr, 0.0f, true},
            {"mbi",
             R"(\b([1-9][ac-hjkmnp-rt-y][ac-hjkmnp-rt-y0-9][0-9]-?[ac-hjkmnp-rt-y][ac-hjkmnp-rt-y0-9][0-9]-?[ac-hjkmnp-rt-y]{2}[0-9]{2})\b)",
             C::kHealthPlan, 0.8f, true, &MbiValid},
            {"health_plan_labelled",
             R"(\b(?:mbi|hicn|medicare|medicaid|member|subscriber|beneficiary|policy|insurance|insurer|plan|group|health\s+plan|bcbs|payer)\s*(?:id|identifier|#|no\.?|number|num)\s*(?:#|no\.?|number)?\s*[:#=]?\s*)",
             C::kHealthPlan, 0.9f, true, nullptr, 0.0f, true},
            {"account_labelled",
             R"(\b(?:account|acct|acc|a/c|billing|invoice|claim)\s*(?:#|no\.?|number|num|id)?\s*[:#=]?\s*)",
             C::kAccount, 0.9f, true, nullptr, 0.0f, true},
            {"credit_card",
             R"(\b((?:[0-9]{4}[\s\-]?){3}[0-9]{1,7}|[0-9]{4}[\s\-]?[0-9]{6}[\s\-]?[0-9]{5})\b)",
             C::kAccount, 0.85f, true, &CreditCardValid},
            {"iban", R"(\b([A-Z]{2}[0-9]{2}(?:\s?[A-Z0-9]{4}){2,7}(?:\s?[A-Z0-9]{1,4})?)\b)",
             C::kAccount, 0.7f, false, &IbanValid},
            {"drivers_licence",
             R"(\b(?:driver'?s?\s*licen[cs]e|drivers?\s+lic\.?|dl|d/l|lic(?:en[cs]e|\.)?)\s*(?:#|no\.?|number|num|id)?\s*[:#=]?\s*)",
             C::kLicense, 0.9f, true, nullptr, 0.0f, true},
            {"drivers_licence_state",
             R"(\b(?:driver'?s?\s*licen[cs]e|drivers?\s+lic\.?|dl)\s*(?:#|no\.?|number)?\s*[:#=]?\s*[a-z]{2,14}(?:\s[a-z]{4,10})?\s+#?\s*([a-z]{0,2}[0-9][0-9\-]{4,16}[0-9]))",
             C::kLicense, 0.9f},
            {"certificate_labelled",
             R"(\b(?:certificate|cert|registration|permit|board\s+cert(?:ification)?)\s*(?:#|no\.?|number|num|id)\s*[:#=]?\s*)",
             C::kLicense, 0.85f, true, nullptr, 0.0f, true},
            {"dea", R"(\b([abcdefghjklmnprstux][a-z9][0-9]{7})\b)", C::kLicense, 0.85f, true,
             &DeaValid},
            {"dea_labelled", R"(\bdea\s*(?:#|no\.?|number|num|id)?\s*[:#=]?\s*([a-z]{2}[0-9]{7}))",
             C::kLicense, 0.95f},
            {"npi", R"(\bnpi\s*(?:#|no\.?|number|num|id)?\s*[:#=]?\s*([0-9]{10})\b)", C::kLicense,
             0.95f},
            {"npi_bare", R"(\b([12][0-9]{9})\b)", C::kLicense, 0.5f, true, &NpiValid},
            {"vin", R"(\b([a-hj-npr-z0-9]{17})\b)", C::kVehicle, 0.9f, true, &VinValid, 0.0f},
            {"vin_labelled", R"(\bvin\s*(?:#|no\.?|number)?\s*[:#=]?\s*([a-hj-npr-z0-9]{11,17})\b)",
             C::kVehicle, 0.95f},
            {"plate_labelled",
             R"(\b(?:licen[cs]e\s+plate|plate|tag|registration\s+plate)\b\s*(?:#|no\.?|number)?\s*[:#=]?\s*([a-z0-9]{1,4}(?:[\s\-][a-z0-9]{1,4})?[0-9a-z]{0,3})\b)",
             C::kVehicle, 0.85f},
            {"udi_gs1", R"((\(01\)[0-9]{14}(?:\((?:10|11|17|21)\)[a-z0-9\-]{1,20}){0,4}))",
             C::kDevice, 0.95f},
            {"udi_gs1_plain", R"(\b(01[0-9]{14}(?:1[017][0-9]{6})?(?:21[a-z0-9]{4,20})?)\b)",
             C::kDevice, 0.6f},
            {"device_serial",
             R"(\b(?:serial|s/n|sn|ser\.?|device\s*(?:id|identifier)|udi|imei|meid|lot|model\s*/\s*serial|pacemaker|implant|pump|defibrillator|icd)\s*(?:#|no\.?|number|num|id)?\s*[:#=]?\s*)",
             C::kDevice, 0.85f, true, nullptr, 0.0f, true},

            // ---- (R) any other labelled unique ID
            {"other_id_labelled",
             R"(\b(?:id|identifier|employee\s+(?:id|#|no\.?|number)|staff\s+id|badge|study\s+(?:id|#|no\.?)|subject\s+(?:id|#)|trial\s+(?:id|#)|patient\s+(?:id|#|no\.?|number)|pt\s+(?:id|#)|case\s+(?:id|#|no\.?|number)|ref(?:erence)?\s*(?:#|no\.?|number)?|order\s*(?:#|no\.?|number)|accession\s*(?:#|no\.?|number)?|specimen\s*(?:#|no\.?|id)|req(?:uisition)?\s*#|ticket\s*#|job\s*(?:#|no\.?|number)|confirmation\s*(?:#|no\.?|number|code)|passport\s*(?:#|no\.?|number)?|tax\s*id|ein|itin|visa\s*(?:#|no\.?|number)?)\s*(?:#|no\.?|number|num)?\s*[:#=]?\s*)",
             C::kOtherId, 0.85f, true, nullptr, 0.0f, true},
            {"insurance_payer_id",
             R"(\b(?:ins|insurance|payer|coverage|carrier)\s*:\s*(?:[a-z][a-z&.'\-]*\s+){1,3}#?\s*([a-z]{0,4}[0-9]{4,}[a-z0-9]*(?:-[a-z0-9]{1,4})?)\b)",
             C::kHealthPlan, 0.85f},
            {"biometric_template",
             R"(\b(?:fingerprint|iris|retina|retinal|voiceprint|voice\s*print|face|facial|palm\s*print|palm\s+vein|finger\s+vein|vein|hand\s+geometry|gait|biometric)\s+(?:template|scan|print|id)\s*(?:#|no\.?|id)?\s*[:#=]?\s*)",
             C::kBiometric, 0.85f, true, nullptr, 0.0f, true},
            {"image_file",
             R"(\b([a-z][a-z0-9_\-]{0,15}[0-9]{3,}[a-z0-9_\-]*\.(?:jpe?g|png|gif|tiff?|bmp|heic|dcm))\b)",
             C::kPhoto, 0.8f},
            {"hash_alnum", R"((?:^|[\s(])#\s?([a-z]{1,4}[0-9]{5,12}(?:-[0-9]{1,4})?)\b)",
             C::kOtherId, 0.6f},
            {"hash_number", R"((?:^|[\s(])#\s?([0-9]{5,12})\b)", C::kOtherId, 0.6f},
            {"long_number", R"((?:^|[^0-9.,/:\-])([0-9]{7,12})(?:$|[^0-9.,/:\-]))", C::kOtherId,
             0.5f},

            // ---- (B) addresses and ZIP codes
            {"street_address_title",
             R"(\b([0-9]{1,6}[A-Z]?(?:-[0-9]{1,5})?[ \t]+(?:(?:N|S|E|W|NE|NW|SE|SW|North|South|East|West)\.?[ \t]+)?(?:[A-Z][a-z'\-]+\.?[ \t]+|[0-9]{1,3}(?:st|nd|rd|th)[ \t]+){1,3})" STREET_SUFFIX_TITLE
             R"(\b\.?(?:,?\s+(?:Apt|Apartment|Suite|Ste|Unit|#|Fl|Floor|Rm|Room|Bldg|Building)\.?\s*#?\s*[A-Za-z0-9\-]{1,6}\b)?))",
             C::kStreetAddress, 0.85f, false},
            {"street_address_upper",
             R"(\b([0-9]{1,6}[A-Z]?(?:-[0-9]{1,5})?[ \t]+(?:(?:N|S|E|W|NE|NW|SE|SW|NORTH|SOUTH|EAST|WEST)\.?[ \t]+)?(?:[A-Z][A-Z'\-]+\.?[ \t]+|[0-9]{1,3}(?:ST|ND|RD|TH)[ \t]+){1,3})" STREET_SUFFIX_UPPER
             R"(\b\.?(?:,?\s+(?:APT|APARTMENT|SUITE|STE|UNIT|#|FL|FLOOR|RM|ROOM|BLDG|BUILDING)\.?\s*#?\s*[A-Z0-9\-]{1,6}\b)?))",
             C::kStreetAddress, 0.8f, false},
            {"unit_designator",
             R"(\b((?:apt|apartment|suite|ste|unit|bldg|building)\.?\s*#?\s*[0-9]{1,5}[a-z]?)\b)",
             C::kStreetAddress, 0.7f},
            {"street_address_intl",
             R"re(\b([0-9]{1,6}\s+(?:[A-Z\x80-\xff][a-z\x80-\xff'\-]+\.?\s+){0,2}[A-Z\x80-\xff][a-z\x80-\xff'\-]{3,}\s+[0-9]{1,5}[a-z]?)\b)re",
             C::kStreetAddress, 0.6f, false},
            {"address_cue",
             R"(\b(?:(?:home\s+|mailing\s+|street\s+|his\s+|her\s+|my\s+|their\s+)?address(?:\s+on\s+file|\s+is)?|lives\s+(?:at|on)|living\s+at|located\s+at|corner\s+of|resides?\s+at|live\s+at|ship\s+(?:it\s+)?to|send\s+(?:it\s+)?to|return\s+(?:it\s+)?to|drops?\s+(?:you\s+)?off\s+at|visit\s+us\s+at|stay(?:ing)?\s+at)\s*:?\s*)",
             C::kStreetAddress, 0.6f, true, nullptr, 0.0f, false, true},
            {"geo_coordinates",
             R"(\b([0-9]{1,2}\.[0-9]{2,7}(?:\xc2\xb0)?\s*[ns],?\s+[0-9]{1,3}\.[0-9]{2,7}(?:\xc2\xb0)?\s*[ew])\b)",
             C::kLocation, 0.85f},
            {"geo_decimal_pair",
             R"((?:^|[^0-9.\-])(-?[0-9]{1,2}\.[0-9]{4,7},\s*-?[0-9]{1,3}\.[0-9]{4,7})\b)",
             C::kLocation, 0.7f},
            {"street_address_lower",
             R"re(\b([0-9]{1,6}[ \t]+(?:(?:n|s|e|w|ne|nw|se|sw|north|south|east|west)\.?[ \t]+)?(?:[a-z]{3,}[ \t]+|[0-9]{1,3}(?:st|nd|rd|th)[ \t]+){1,3}(?:street|avenue|ave|road|lane|ln|drive|court|boulevard|blvd|highway|hwy|parkway|pkwy|terrace|circle|trail|plaza|turnpike)\b\.?(?:,?[ \t]+(?:apt|apartment|suite|ste|unit|#|fl|floor|rm|room|bldg)\.?[ \t]*#?[ \t]*[a-z0-9\-]{1,6}\b)?))re",
             C::kStreetAddress, 0.6f, false},
            {"street_address_lower_abbrev",
             R"re(\b([0-9]{2,6}[ \t]+(?:(?:n|s|e|w|ne|nw|se|sw|north|south|east|west)\.?[ \t]+)?(?:[a-z]{3,}[ \t]+|[0-9]{1,3}(?:st|nd|rd|th)[ \t]+){1,3}(?:dr|way|st|rd|ct|pl|ave|ln)\.?(?:,?[ \t]+(?:apt|apartment|suite|ste|unit|#|fl|floor|rm|room|bldg)\.?[ \t]*#?[ \t]*[a-z0-9\-]{1,6}\b)?)(?:,|\n))re",
             C::kStreetAddress, 0.6f, false},
            {"street_address_foreign",
             R"re(\b([0-9]{1,6}\s+(?:(?:ul\.|rue|via|viale|calle|carrer|avenida|avenue|av\.|rua|trg|piazza|plaza|platz|ulica|ulice|cesta|utca|rkp\.|boulevard|chemin|route|strada|largo|praça|travessa)\s+(?:[^\s0-9,|]+\s+){0,3}|(?:[^\s0-9,|]+\s+){0,2}[^\s0-9,|]*(?:strasse|stra\xc3\x9fe|gasse|weg|vej|gade|gata|gatan|vegur|katu|tie|braut|straat|laan|veien|gaten|allee|utca|t\xc3\xa9r|\xc3\xbat)\.?\s+)[0-9]{1,5}[a-z]?)\b)re",
             C::kStreetAddress, 0.7f},
            {"military_address",
             R"(\b((?:psc|unit|cmr)\s+[0-9]{3,5},?\s+box\s+[0-9]{3,5}(?:\s+(?:apo|fpo|dpo)\s+(?:aa|ae|ap)\s+[0-9]{5})?)\b)",
             C::kStreetAddress, 0.85f},
            {"po_box", R"(\b(p\.?\s?o\.?\s*box\s+[0-9]{1,7})\b)", C::kStreetAddress, 0.9f},
            {"zip_after_state",
             R"(\b(?:al|ak|az|ar|ca|co|ct|de|dc|fl|ga|hi|id|il|in|ia|ks|ky|la|me|md|ma|mi|mn|ms|mo|mt|ne|nv|nh|nj|nm|ny|nc|nd|oh|ok|or|pa|ri|sc|sd|tn|tx|ut|vt|va|wa|wv|wi|wy|pr)\.?,?\s+([0-9]{5}(?:-[0-9]{4})?)\b)",
             C::kZip, 0.95f},
            {"zip_after_state_name", R"(\b(?:alabama|alaska|arizona|arkansas|california|colorado|connecticut|delaware|florida|georgia|hawaii|idaho|illinois|indiana|iowa|kansas|kentucky|louisiana|maine|maryland|massachusetts|michigan|minnesota|mississippi|missouri|montana|nebraska|nevada|new\s+hampshire|new\s+jersey|new\s+mexico|new\s+york|north\s+carolina|north\s+dakota|ohio|oklahoma|oregon|pennsylvania|rhode\s+island|south\s+carolina|south\s+dakota|tennessee|texas|utah|vermont|virginia|washington|west\s+virginia|wisconsin|wyoming|puerto\s+rico),?\s+([0-9]{5}(?:-[0-9]{4})?)\b)",
             C::kZip, 0.9f},
            {"zip_labelled",
             R"(\b(?:zip|zipcode|zip\s+code|postal\s+code|postcode)(?:\s+is)?\s*[:#=]?\s*([0-9]{4,6}(?:-[0-9]{3,4})?)\b)",
             C::kZip, 0.95f},
            {"zip_plus4", R"(\b([0-9]{5}-[0-9]{4})\b)", C::kZip, 0.7f},
            // US Navy / Coast Guard ship mail: "USS Name, FPO AE 09501" (the
            // ship's name is one or two words).
            {"military_ship_address",
             R"(\b((?:uss|usns|usnv|uscgc)\s+[a-z\x80-\xff][a-z\x80-\xff'\-]+(?:\s+[a-z\x80-\xff][a-z\x80-\xff'\-]+)?,?\s+(?:fpo|apo|dpo)\s+(?:aa|ae|ap)\s+[0-9]{5})\b)",
             C::kStreetAddress, 0.85f},
};

#undef MONTH
#undef DAY
#undef MON
#undef ORD
#undef TIME
#undef SEP
#undef IDV
#undef STREET_SUFFIX_TITLE
#undef STREET_SUFFIX_UPPER
#undef IDNUM

}  // namespace

std::span<const PatternSpec> DefaultPatterns() { return kPatterns; }

namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool IsAsciiAlnum(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// Reads the escape at re[*i] == '\\', adds the bytes it matches to *set and
// moves *i past it. *single is its byte when it stands for exactly one (so it
// can start or end a class range), else -1. False for an escape this reader
// does not know (the caller then admits every byte).
bool ReadEscape(std::string_view re, size_t* i, std::bitset<256>* set, int* single) {
  *single = -1;
  if (*i + 1 >= re.size()) return false;
  const char c = re[*i + 1];
  *i += 2;
  switch (c) {
    case 's':  // RE2: [\t\n\f\r ]; Hyperscan adds \v
      for (const char b : {'\t', '\n', '\v', '\f', '\r', ' '})
        set->set(static_cast<unsigned char>(b));
      return true;
    case 'd':
      for (int b = '0'; b <= '9'; ++b) set->set(static_cast<size_t>(b));
      return true;
    case 'w':
      for (int b = 0; b < 256; ++b) {
        if (IsAsciiAlnum(static_cast<char>(b)) || b == '_') set->set(static_cast<size_t>(b));
      }
      return true;
    case 'b':
    case 'B':
    case 'A':
    case 'z':
      return true;  // zero width
    case 'n':
      *single = '\n';
      break;
    case 't':
      *single = '\t';
      break;
    case 'r':
      *single = '\r';
      break;
    case 'f':
      *single = '\f';
      break;
    case 'v':
      *single = '\v';
      break;
    case 'x':
      if (*i + 1 >= re.size() || HexDigit(re[*i]) < 0 || HexDigit(re[*i + 1]) < 0) return false;
      *single = HexDigit(re[*i]) * 16 + HexDigit(re[*i + 1]);
      *i += 2;
      break;
    default:
      if (IsAsciiAlnum(c)) return false;  // \S, \pL, back-references, ...
      *single = static_cast<unsigned char>(c);
  }
  set->set(static_cast<size_t>(*single));
  return true;
}

// The class at re[*i] == '['; false when it holds something unsupported.
bool ReadClass(std::string_view re, size_t* i, std::bitset<256>* set) {
  size_t j = *i + 1;
  const bool negated = j < re.size() && re[j] == '^';
  if (negated) ++j;
  std::bitset<256> cls;
  for (bool first = true;; first = false) {
    if (j >= re.size()) return false;
    if (re[j] == ']' && !first) {
      ++j;
      break;
    }
    int lo;
    if (re[j] == '\\') {
      if (!ReadEscape(re, &j, &cls, &lo)) return false;
    } else if (re[j] == '[' && j + 1 < re.size() && re[j + 1] == ':') {
      return false;  // [:alpha:]
    } else {
      lo = static_cast<unsigned char>(re[j++]);
      cls.set(static_cast<size_t>(lo));
    }
    if (lo >= 0 && j + 1 < re.size() && re[j] == '-' && re[j + 1] != ']') {
      ++j;
      int hi;
      if (re[j] == '\\') {
        std::bitset<256> ignored;
        if (!ReadEscape(re, &j, &ignored, &hi) || hi < 0) return false;
      } else {
        hi = static_cast<unsigned char>(re[j++]);
      }
      if (hi < lo) return false;
      for (int b = lo; b <= hi; ++b) cls.set(static_cast<size_t>(b));
    }
  }
  // A negated class admits the complement of its unfolded members: a
  // superset of what a caseless match admits.
  *set |= negated ? ~cls : cls;
  *i = j;
  return true;
}

}  // namespace

std::bitset<256> MatchableBytes(const PatternSpec& spec) {
  const std::string_view re = spec.regex;
  std::bitset<256> set;
  std::bitset<256> all;
  all.set();
  size_t i = 0;
  while (i < re.size()) {
    const char c = re[i];
    if (c == '\\') {
      int single;
      if (!ReadEscape(re, &i, &set, &single)) return all;
    } else if (c == '[') {
      if (!ReadClass(re, &i, &set)) return all;
    } else if (c == '(') {
      if (i + 1 < re.size() && re[i + 1] == '?') {
        if (i + 2 >= re.size() || re[i + 2] != ':') return all;  // flags, named groups
        i += 3;
      } else {
        ++i;
      }
    } else if (c == '{') {  // a counted repeat
      for (++i; i < re.size() && re[i] != '}'; ++i) {
        if (re[i] != ',' && !(re[i] >= '0' && re[i] <= '9')) return all;
      }
      ++i;
    } else if (c == ')' || c == '|' || c == '*' || c == '+' || c == '?' || c == '^' || c == '$') {
      ++i;
    } else if (c == '.') {
      return all;
    } else {
      set.set(static_cast<unsigned char>(c));
      ++i;
    }
  }
  if (spec.caseless) {
    // ASCII letters, and Latin-1 0xC0-0xFE with their 0x20-apart partner
    // (RE2 folds those in Latin-1 mode; the two non-letters there only widen it).
    for (size_t b = 0; b < 256; ++b) {
      if (!set.test(b)) continue;
      const bool ascii_letter = (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z');
      if (ascii_letter || b >= 0xC0) set.set(b ^ 0x20);
    }
  }
  return set;
}

bool GroupIsWholeMatch(std::string_view re) {
  size_t b = 0;
  size_t e = re.size();
  for (;;) {
    if (re.substr(b, 2) == "\\b") {
      b += 2;
    } else if (re.substr(b, 1) == "^") {
      b += 1;
    } else {
      break;
    }
  }
  // A trailing assertion, unless its backslash or '$' is itself escaped.
  const auto escaped = [&](size_t i) {
    size_t n = 0;
    while (i > b + n && re[i - 1 - n] == '\\') ++n;
    return n % 2 == 1;
  };
  for (;;) {
    if (e >= b + 2 && re.substr(e - 2, 2) == "\\b" && !escaped(e - 2)) {
      e -= 2;
    } else if (e >= b + 1 && re[e - 1] == '$' && !escaped(e - 1)) {
      e -= 1;
    } else {
      break;
    }
  }
  if (e < b + 2 || re[b] != '(' || re.substr(b, 2) == "(?" || re[e - 1] != ')' || escaped(e - 1)) {
    return false;
  }
  // The group opened at b must close at e - 1.
  int depth = 0;
  for (size_t i = b; i < e; ++i) {
    const char c = re[i];
    if (c == '\\') {
      ++i;
    } else if (c == '[') {
      ++i;  // a ']' or "^]" right after '[' is a member
      if (i < e && re[i] == '^') ++i;
      if (i < e && re[i] == ']') ++i;
      while (i < e && re[i] != ']') i += re[i] == '\\' ? 2 : 1;
    } else if (c == '(') {
      ++depth;
    } else if (c == ')' && --depth == 0) {
      return i == e - 1;
    }
  }
  return false;
}

}  // namespace phigate::detect
