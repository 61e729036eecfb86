// The style scripts: which template lines make up a note of each style.
// Template syntax: src/synth/note_writer.h. Keys: NoteBuilder::Emit().
#include <string_view>
#include <utility>

#include "src/synth/note_writer.h"

namespace phigate::synth::internal {
namespace {

// ------------------------------------------------------------ shared filler

constexpr std::string_view kNeuro[] = {
    "Neuro: A&Ox3, MAE, follows commands. PERRLA. [Denies pain.|C/o mild HA, tylenol given.]",
    "Neuro: sedated on propofol, arousable to voice, [nods appropriately|not following commands]. "
    "Pupils 3mm brisk.",
    "NEURO: LETHARGIC BUT AROUSABLE, ORIENTED X2. MOVES ALL EXTREMITIES. NO SEIZURE ACTIVITY.",
    "Neuro: intermittently confused overnight, reoriented frequently. Glasgow coma scale 14.",
    "Neuro- alert, pleasant, [anxious at times|calm], sleeping in naps. CIWA {num}.",
    "Neuro: no change. Babinski neg. Pain controlled with {dose} mg oxycodone prn.",
};
constexpr std::string_view kCv[] = {
    "CV: HR {hr} [NSR|SR|ST|AF], no ectopy. BP {bp}, MAP [65|70|72|80]. Pulses palpable. "
    "K {k}, repleted.",
    "CV: HR {hr}-{hr} afib, rate controlled on dilt gtt at {num} mg/hr. SBP 100s-120s.",
    "CV- NSR {hr} without ectopy, BP {bp}-{bp}. Lopressor {dose} mg po given. Swan-Ganz d/c'd.",
    "CV: hemodynamically stable, BP {bp}. Heparin gtt at {dose} units/hr, PTT this am [58|72|91].",
    "CV: HR {hr}, BP {bp} on levophed .{num} mcg/kg/min, weaning as tolerated.",
};
constexpr std::string_view kResp[] = {
    "Resp: LS clear bilat, diminished at bases. SpO2 {spo2}% on {num}L NC. RR {rr}.",
    "Resp: remains intubated, AC 500 x {rr}, PEEP 5, FiO2 40%. ABG 7.38/42/96. Sx for thick "
    "tan secretions.",
    "RESP: RR {rr}, O2 SAT {spo2}% ON 2L NP. COUGHING, PRODUCTIVE OF WHITE SPUTUM.",
    "Resp: extubated this am to 50% face tent, sats {spo2}-100%. IS encouraged.",
    "Resp- lungs coarse, neb tx given by RT, sats {spo2}% RA.",
};
constexpr std::string_view kGi[] = {
    "GI: abd soft, NT/ND, +BS. Tolerating [clears|regular diet|TF at goal {num}0cc/hr]. "
    "[No BM.|BM x1 guaiac neg.]",
    "GI/GU: Foley draining clear yellow urine, UO {num}0-{num}0cc/hr. BUN {bun}/Cr {cr}.",
    "GU: voiding qs, lasix {dose} mg IV with good response. I/O +{num}00 cc.",
    "GI: NPO for procedure, D5 1/2NS at {num}0cc/hr. FS glucose {glu}, covered per RISS.",
    "GI- abd distended, firm, hypoactive BS. KUB done. Protonix IV.",
};
constexpr std::string_view kSkin[] = {
    "Skin: intact, turned q2h. Stage II sacral decub, duoderm applied.",
    "Skin: [warm and dry|cool, mottled LE]. Left groin site without hematoma.",
    "ID: Tmax {temp}, WBC {wbc}. Cont vanco/zosyn, cx pending.",
    "ID: afebrile, blood cx from {dshort} no growth to date.",
    "Heme: Hct 28.5, Hgb {hgb}, plt {plt}. 2 units PRBC given. INR {inr}.",
    "Endo: FS {glu}-{glu}, insulin gtt off. Lantus {num}0 units at HS.",
};
constexpr std::string_view kPlans[] = {
    "Plan: cont current mgmt, wean O2 as tol, OOB to chair, f/u AM labs.",
    "Plan: monitor hemodynamics, replete lytes, PT/OT consult. Possible transfer to floor.",
    "PLAN: CONTINUE TO MONITOR. FAMILY MEETING TOMORROW. ? TRACH/PEG.",
    "Plan - keep NPO p MN for cath in am, hold heparin at 0400.",
    "Plan: cont abx, follow cx, diuresis goal neg 1L. Update family.",
};

// ------------------------------------------------------------ ICU nursing

constexpr std::string_view kIcuHeader[] = {
    "[NPN|Nursing Progress Note|MICU NPN|CCU Nursing Note|SICU nsg note] "
    "[7a-7p|7p-7a|0700-1900|1900-0700|{dtime}]\n",
    "[Nursing|NSG] note {dshort} [7a-7p|7p-7a]: \n",
    "{dtime} [NURSING ADMIT NOTE|Nursing admission note]\n",
    "Pt: {ptlf}   MRN: {mrn}   Bed {bed}\n",
};
constexpr std::string_view kIcuOpeners[] = {
    "{agefmt} {malefemale} admitted from {fac2} on {dshort} with {pmh}. ",
    "Pt is a {agefmt} {manwoman} transferred from {fac2} for {pmh} mgmt. ",
    "{pttitle} is a {agefmt} with hx {pmh}, admitted {date} after [a fall|syncope|resp failure]. ",
    "{agesex} s/p [CABG|AVR|ex-lap|TIPS] on {dpart}, PMH {pmh}. ",
    "Pt {pt} remains on MICU. ",
    "Report received from {rn}, RN. ",
};
constexpr std::string_view kIcuSocial[] = {
    "Social: {relrole} {rel} in to visit, updated by {dr}. [Plan to call|{relrole} can be reached "
    "at] "
    "{relphone}.\n",
    "Social: pt's {relrole} ({rel}) is HCP, cell {relphone}. Lives in {city} with {hisher} "
    "{relrole}.\n",
    "Family: {relrole} {rel} called x2, questions answered. Family meeting with {dr} on {dpart}.\n",
    "Social: {relposs} number is {relphone}. Pt lives alone in {city}, {state}.\n",
    "Dispo: screening for {snf}. CM {other} following, pager {pager}.\n",
    "SOCIAL: {relrole} {rel} IN ALL DAY, VERY SUPPORTIVE. WILL RETURN {dpart}.\n",
    "Social- pt's {relrole} {rel} ({relage}) also a pt at {fac2}.\n",
    "Social: {ptposs} {relrole} asking for update, {dr} aware, will call {relphone} in am.\n",
    "Social: lives at home in the {hood} area of {city} with {relrole}. Retired from {employer}.\n",
    "Family: {relrole} {rel} states pt was at baseline until {dth}, then [more confused|"
    "SOB|not eating]. Per {drposs} note, goals of care discussion pending.\n",
    "Social: pt from {county}, {state}; {relrole} {rel} driving in from {city}, ETA {time}.\n",
};

void WriteIcu(NoteWriter& w) {
  w.Pick(kIcuHeader);
  w.Pick(kIcuOpeners);
  if (w.Chance(0.5))
    w.T("Code status: [full code|DNR/DNI], confirmed with {relrole} {rel}.\n");
  else
    w.T("\n");
  w.Pick(kNeuro);
  w.T("\n");
  w.Pick(kCv);
  w.T("\n");
  w.Pick(kResp);
  w.T("\n");
  w.Pick(kGi);
  w.T("\n");
  if (w.Chance(0.6)) {
    w.Pick(kSkin);
    w.T("\n");
  }
  const size_t upper_mark = w.size();
  w.Pick(kIcuSocial);
  if (w.Chance(0.4)) {
    w.NextRelative();
    w.Pick(kIcuSocial);
  }
  if (w.Chance(0.15)) w.CaseSince(upper_mark, true);
  if (w.Chance(0.3))
    w.T("Seen by {dr2} [from renal|from cards|(ID)|from surgery] at {time}, recs "
        "appreciated.\n");
  if (w.Chance(0.2)) w.T("Pt's {device} interrogated, serial # {serial}.\n");
  w.Pick(kPlans);
  w.T("\n");
  if (w.Chance(0.5)) w.T("[{rn}, RN|{rnfull}|- {rn}]\n");
}

// ------------------------------------------------------------ upper telegraphic

constexpr std::string_view kUpperLines[] = {
    "{agesex} ADMITTED IN TRANSFER FROM {fac2} FOR {pmh}. ",
    "PMH {pmh}. ",
    "TRANS TO {fac} {dshort}. DOPAMINE WEANED TO OFF. ",
    "{relrole} {rel} IN, UPDATED BY DR {drlast}. ",
    "CALLED DR {drlast} RE BP {bp}, NO NEW ORDERS. ",
    "PT FROM {city}, LIVES W/ {relrole}. ",
    "HR {hr} SR NO ECTOPY, BP {bp}, SAT {spo2}% 2L NC. ",
    "LUNGS CLEAR, DIMINISHED BASES. ",
    "FOLEY PATENT, UO {num}0CC/HR. ",
    "NPO FOR CATH {dpart}. ",
    "K {k} REPLETED WITH 40 MEQ KCL. ",
    "FAMILY MTG {dshort} AT 1400 W/ DR {dr2last}. ",
    "PT'S {relrole} {rel} CALLED FROM {relphone}. ",
    "S/P CABG {year}. ",
    "SEEN BY CARDS ON {dth}. ",
    "PER DR {drlast}'S NOTE, FOR TEE {dpart}. ",
    "AWAITING BED AT {snf}. ",
    "SEEN BY {dr2} FROM RENAL. ",
    "PLAN: CONT MONITOR, ADVANCE DIET AS TOL, OOB TO CHAIR. ",
    "TX TO FLOOR WHEN BED AVAIL. ",
    "{pt} TOLERATED PROCEDURE WELL. ",
    "MRN {mrn}. ",
    "DOB {dob}. ",
};

void WriteUpper(NoteWriter& w) {
  if (w.Chance(0.5)) w.T("[NPN|NSG|NURSING NOTE] [7A-7P|7P-7A|{dtime}]\n");
  if (w.Chance(0.5)) w.T("O: ");
  const size_t n = 5 + w.rng().Below(8);
  for (size_t i = 0; i < n; ++i) {
    w.Pick(kUpperLines);
    if (w.Chance(0.15)) w.T("\n \n");
    if (w.Chance(0.2)) w.NextRelative();
  }
  w.T("\nA: [STABLE|NO HEMODYNAMIC COMPROMISE|IMPROVING]. P: [TREND BP|CONT CURRENT PLAN|"
      "MONITOR RESP STATUS].\n");
}

// ------------------------------------------------------------ lower sloppy

constexpr std::string_view kLowerLines[] = {
    "pt {pt} seen {dshort}, c/o {complaint}. ",
    "spoke w/ {relrole} {rel} @ {relphone}, updated re plan. ",
    "{agesex} w hx {pmh}. ",
    "lives in {city} w/ {relrole}, [indep w adls|uses walker]. ",
    "f/u w dr {drlast} next wk, clinic # {clinicphone}. ",
    "pcp is {pcp}. ",
    "labs: na {na} k {k} cr {cr} glu {glu}. ",
    "vs: hr {hr} bp {bp} rr {rr} t {temp} sat {spo2}% ra. ",
    "gave tylenol {dose}mg, pain better. ",
    "family asking abt dc to {snf}. ",
    "pt's email is {email} for portal. ",
    "pt says last 4 of ssn {ssn4} for id check. ",
    "mrn {mrn}. ",
    "appt {next} w {dr2}. ",
    "got records from {fac2}, fax {fax}. ",
    "dtr {rel} will pick up rx. ",
    "pt wants copy sent to {fulladdr}. ",
    "cxr {dpart} neg. ",
    "hx cabg {year}. ",
    "pt verified id w/ dob {dob} and ssn {ssnmasked}. ",
    "seen in clinic on {dth}, no changes. ",
    "ins {planname} id {plan}. ",
};

void WriteLower(NoteWriter& w) {
  if (w.Chance(0.4)) w.T("[note|nsg note|addendum|phone note] {dtime}\n");
  const size_t n = 5 + w.rng().Below(8);
  for (size_t i = 0; i < n; ++i) {
    w.Pick(kLowerLines);
    if (w.Chance(0.2)) w.T("\n");
    if (w.Chance(0.2)) w.NextRelative();
  }
  w.T("\n[-{rn}|{rn} rn|]\n");
}

// ------------------------------------------------------------ discharge summary

void WriteDischarge(NoteWriter& w) {
  w.T("[DISCHARGE SUMMARY|Discharge Summary|DISCHARGE SUMMARY - FINAL]\n");
  w.T("{fac}\n");
  w.T("[Patient|Name|PATIENT NAME]: {ptlf}[    |\n]MRN: {mrn}\n");
  w.T("[DOB|Date of Birth|D.O.B.]: {dob}   Age: {age}   Sex: {sex}\n");
  if (w.Chance(0.3)) w.T("Acct #: {acct}[   SSN: {ssnmasked}|]\n");
  w.T("[Admission Date|Admit Date|Date of Admission]: {adm}[    |\n][Discharge Date|"
      "Date of Discharge]: {dc}\n");
  w.T("[Attending|Attending Physician]: {dr}\n");
  if (w.Chance(0.7)) w.T("PCP: {pcp}, {clinic}, tel {clinicphone}\n");
  w.T("\n[HISTORY OF PRESENT ILLNESS|HPI|History of Present Illness]:\n");
  w.T("[{pttitle}|{ptfull}|The patient] is a {agefmt} {manwoman} with [a history of|PMH of] {pmh} "
      "who presented to [the ED at |]{fac} on {adm} with [chest pain|shortness of breath|a fall at "
      "home|fever|confusion]. ");
  if (w.Chance(0.5)) w.T("[{HeShe} was|Pt was] recently seen at {fac2} on {date}. ");
  if (w.Chance(0.5))
    w.T("[Pt's|The patient's] {relrole} {rel} reports {heshe} had been declining since {dpart}. ");
  w.T("\n\nHOSPITAL COURSE:\n");
  w.T("1. [CHF|Pneumonia|NSTEMI|Sepsis|AKI] - treated with [IV lasix|ceftriaxone/azithro|heparin "
      "gtt|IVF and vanco/zosyn]. [Echo on {dpart} showed EF 35%.|Cx negative.|Cr peaked at "
      "{cr}.]\n");
  w.T("2. [Afib|HTN|DM2] - [rate controlled with metoprolol|home meds continued|on SSI]. "
      "[INR {inr} on {dshort}.|]\n");
  if (w.Chance(0.4))
    w.T("3. Dispo - seen by PT, recommended rehab. Accepted at {snf} on {dshort}.\n");
  w.T("\nDISCHARGE MEDICATIONS: metoprolol {dose} mg BID, lisinopril {num}0 mg daily, ASA 81 mg, "
      "atorvastatin 40 mg qHS.\n");
  w.T("DISPOSITION: [Home with services|Home|Rehab facility|Extended care]\n");
  w.T("FOLLOW-UP: [{pcp} in 1-2 weeks|{dr2} ({clinic}) on {next}|Cardiology clinic on {next}], "
      "[tel|phone|ph] {clinicphone}.\n");
  if (w.Chance(0.5)) w.T("Pt instructed to call {clinicphone} or page {pager} with questions.\n");
  if (w.Chance(0.5)) w.T("Address on file: {fulladdr}\n");
  if (w.Chance(0.4)) w.T("Home phone {phone}, cell {cell}.\n");
  w.T("\n[Dictated by|Electronically signed by]: {drfull}, MD [{dtime}|on {date}]\n");
  if (w.Chance(0.5)) w.T("[Job #|Dictation ID]: {otherid}   cc: {pcp}\n");
}

// ------------------------------------------------------------ referral letter

void WriteReferral(NoteWriter& w) {
  w.T("{clinic}\n");
  w.T("{clinicaddr}\n");
  w.T("[Tel|Phone|T]: {clinicphone}   [Fax|F]: {fax}\n");
  if (w.Chance(0.4)) w.T("{url}\n");
  w.T("\n{dlong}\n\n");
  w.T("{dr2}\n{fac2}\n");
  w.T("\n[Re|RE|Regarding]: {ptfull}[, DOB {dob}| (DOB: {dob})]\n");
  if (w.Chance(0.7)) w.T("MRN: {mrn}[   Insurance: {planname} #{plan}|]\n");
  w.T("\nDear [Dr.|Doctor] {dr2last},\n\n");
  w.T("Thank you for seeing [{pttitle}, |{ptfirst}, |my patient, {pt}, ]a pleasant {agefmt} "
      "{manwoman} "
      "whom I am referring for evaluation of [worsening dyspnea|a thyroid nodule|refractory "
      "hypertension|memory loss|chronic low back pain]. ");
  w.T("[{HeShe} has a history of {pmh}.|PMH is notable for {pmh}.] ");
  if (w.Chance(0.5))
    w.T("[{HeShe} was last seen here on {date}.|I last saw {himher} on {dpart}.] ");
  if (w.Chance(0.5))
    w.T("{ptposs} {relrole}, {rel}, usually accompanies {himher} to visits and "
        "can be reached at {relphone}. ");
  if (w.Chance(0.4)) w.T("Records from {fac} are enclosed. ");
  if (w.Chance(0.3)) w.T("{HeShe} now lives at {snf} in {city}. ");
  w.T("\n\nPlease do not hesitate to contact me at {clinicphone} [or by email at {dremail}|].\n\n");
  w.T("[Sincerely|Best regards|Kind regards],\n\n{drfull}, MD\n");
  if (w.Chance(0.6)) w.T("NPI: {npi}[   DEA: {dea}|]\n");
  if (w.Chance(0.3)) w.T("[State license|Lic. #|Medical license] {lic}\n");
  if (w.Chance(0.5)) w.T("cc: {pcp}\n");
}

// ------------------------------------------------------------ lab / radiology

void WriteLab(NoteWriter& w) {
  if (w.Chance(0.6)) {
    w.T("[CLINICAL LABORATORY REPORT|LABORATORY REPORT|Lab Results|PATHOLOGY REPORT]\n");
    w.T("{fac}  {clinicaddr}\n");
    if (w.Chance(0.4)) w.T("CLIA# {num}D{num}0{num}{num}{num}   Phone {clinicphone}  Fax {fax}\n");
    w.T("Patient: {ptlf}[    |\n]MRN: {mrn}\n");
    w.T("DOB: {dob}   Age/Sex: {age}/{sex}\n");
    w.T("Accession: {accession}   Collected: {dtime}   Received: {dtime}\n");
    w.T("Ordering: {dr}   NPI: {npi}\n");
    if (w.Chance(0.3)) w.T("Account: {acct}   Ins: {planname} {plan}\n");
    w.T("\nTEST            RESULT    REF RANGE\n");
    w.T("Sodium          {na}       135-145 mmol/L\n");
    w.T("Potassium       {k}       3.5-5.1 mmol/L\n");
    w.T("Creatinine      {cr}       0.6-1.3 mg/dL\n");
    w.T("Glucose         {glu}       70-99 mg/dL\n");
    w.T("WBC             {wbc}      4.0-11.0 K/uL\n");
    w.T("Hemoglobin      {hgb}      12.0-16.0 g/dL\n");
    if (w.Chance(0.5)) w.T("INR             {inr}       0.9-1.1\n");
    w.T("\nCritical value called to {rn}, RN at {time} on {dshort}, read back verified.\n");
    w.T("Verified by: {other}, MLS(ASCP)  {dtime}\n");
  } else {
    w.T("[RADIOLOGY REPORT|IMAGING REPORT|Radiology]\n");
    w.T("Patient: {ptlf}   MRN: {mrn}   DOB: {dob}\n");
    w.T("EXAM: [CHEST PA/LAT|CT HEAD W/O CONTRAST|CT ABD/PELVIS W CONTRAST|MRI L-SPINE|"
        "CXR PORTABLE]   DATE: {dtime}\n");
    w.T("Accession #: {accession}   Location: {fac}\n");
    w.T("Referring: {dr}\n");
    w.T("COMPARISON: [{date}|None.|Outside films from {fac2} dated {date}.]\n");
    w.T("HISTORY: {agesex} with [cough|fall|headache|back pain|abd pain].\n");
    w.T("FINDINGS: [Lungs are clear. No effusion or pneumothorax.|No acute intracranial "
        "hemorrhage.|Mild degenerative changes.|Small bilateral effusions.] ");
    if (w.Chance(0.5)) {
      w.T("[A|The] {device} [generator|device] is [noted|seen] in the [left|right] chest[, serial "
          "{serial} per records|].[ UDI {udi}.|]");
    }
    w.T("\nIMPRESSION: [No acute cardiopulmonary process.|Stable exam.|Findings discussed with "
        "{dr2} by phone at {time}.]\n");
    if (w.Chance(0.3)) w.T("Images stored as {photo} in the PACS.\n");
    w.T("Dictated by: {dr2}   Signed: {dtime}\n");
  }
}

// ------------------------------------------------------------ email

void WriteEmail(NoteWriter& w) {
  w.T("From: {drfull} <{dremail}>\n");
  w.T("To: {dr2full} <{dr2email}>\n");
  if (w.Chance(0.3)) w.T("Cc: {rnfull}\n");
  w.T("[Date|Sent]: {dtime}\n");
  w.T("Subject: [Re: |RE: |FW: |]{ptlast} [- labs|follow up|d/c planning|question re meds|"
      "- urgent]\n\n");
  w.T("[Hi|Hello|Dear] {dr2last},\n\n");
  w.T("[Quick question about|Following up on|Wanted to loop you in on] [our mutual patient |]{pt} "
      "(MRN {mrn}[, DOB {dob}|]). ");
  w.T("[{HeShe} was discharged on {dc}|{HeShe} came in {dpart}|I saw {himher} in clinic on "
      "{date}] with [a K of {k}|Cr {cr}|BP {bp}|worsening edema]. ");
  if (w.Chance(0.5))
    w.T("Can you see {himher} before {next}? {relrole} {rel} prefers mornings "
        "({relphone}). ");
  if (w.Chance(0.4)) w.T("Records from {fac2} attached. ");
  if (w.Chance(0.3)) w.T("Note {heshe} is {agefmt} and lives alone in {city}. ");
  if (w.Chance(0.3)) w.T("{HeShe} also asked to update {hisher} email to {email}. ");
  w.T("\n\n[Thanks|Thank you|Best],\n{drfirst}\n\n--\n");
  w.T("{drfull}, MD | {fac} | [p|tel] {clinicphone} | [f|fax] {fax}\n");
  if (w.Chance(0.4)) w.T("{url}\n");
  w.T("CONFIDENTIALITY NOTICE: This message may contain protected health information.\n");
}

// ------------------------------------------------------------ patient portal

void WritePortal(NoteWriter& w) {
  w.T("[Patient Portal Message|MyChart message|Message from patient|Portal msg] - {dtime}\n");
  w.T("From: {ptfull}[ (MRN {mrn})|]\n");
  w.T("To: {dr}\n");
  w.T("Subject: [refill|question|new address|appointment|insurance change|test results]\n\n");
  w.T("[Hi|Hello|Dear|hey] Dr. {drlast}, [this is|it's] {ptfirst}[ {ptlast}|]. ");
  // 2-5 distinct topics: a partial Fisher-Yates shuffle of the 11.
  size_t topics[11] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  const size_t n = 2 + w.rng().Below(4);
  for (size_t i = 0; i < n; ++i) {
    std::swap(topics[i], topics[i + w.rng().Below(11 - i)]);
    switch (topics[i]) {
      case 0:
        w.T("I moved, my new address is {fulladdr}. ");
        break;
      case 1:
        w.T("You can reach me at {cell} or {email}. ");
        break;
      case 2:
        w.T("My insurance changed to {planname}, the new member ID is {plan}. ");
        break;
      case 3:
        w.T("My Medicare number is {mbi} if you need it for the form. ");
        break;
      case 4:
        w.T("I need a refill of my [lisinopril|metformin|inhaler|eliquis] before {dpart}. ");
        break;
      case 5:
        w.T("My {relrole} {rel} will drive me, their number is {relphone}. ");
        break;
      case 6:
        w.T("I can't make the appointment on {next}, can we move it? ");
        break;
      case 7:
        w.T("[The pharmacy on {street} said they never got it.|I'm visiting family abroad until "
            "{dpart}, you can reach me at {intlphone}.] ");
        break;
      case 8:
        w.T("I uploaded a photo of the rash ({photo}). ");
        break;
      case 9:
        w.T("Also my billing account {acct} shows a charge from {dshort} I don't understand. ");
        break;
      default:
        w.T("I've been feeling [better|worse|about the same] since {dpart}. ");
        break;
    }
  }
  w.T("\n[Thanks|Thank you|thx],\n{ptfirst}\n");
  if (w.Chance(0.6)) w.T("\n-- Sent via {url} from IP {ip}\n");
  if (w.Chance(0.5)) {
    w.T("\nReply from {rn}, RN ({dtime}): [Thank you, we updated your chart.|Dr. {drlast} has "
        "been notified.|Please call {clinicphone} to reschedule.]\n");
  }
}

// ------------------------------------------------------------ ED / trauma

void WriteEd(NoteWriter& w) {
  w.T("[ED PHYSICIAN NOTE|Emergency Department Note|TRAUMA ACTIVATION] {dtime}\n");
  w.T("Pt: {pt}   MRN {mrn}   Age {age}\n");
  w.T("[CC|Chief complaint]: [MVC|fall|chest pain|assault|pedestrian struck]\n");
  w.T("HPI: {agesex} [restrained|unrestrained] [driver|passenger] in [a rollover|a T-bone|a "
      "low-speed] MVC on Route [9|2|128|30] near {loc}. ");
  if (w.Chance(0.7)) {
    w.T("Vehicle: [{car}|car], VIN {vin}, [plate|lic plate|tag] {plate} ({state}). ");
  }
  if (w.Chance(0.5)) w.T("Per {city} PD officer {other} (badge #{otherid}), airbags deployed. ");
  w.T("EMS from [{city} Fire|{city} Ambulance|{county} EMS] reports GCS 15 at scene. ");
  if (w.Chance(0.4)) w.T("Pt ID'd by {state} driver's license [#|no.] {dl}. ");
  if (w.Chance(0.5)) w.T("Contact: {relrole} {rel} {relphone}. ");
  w.T("\nVS: HR {hr} BP {bp} RR {rr} T {temp} SpO2 {spo2}%\n");
  w.T("Exam: [seatbelt sign across abd|L forearm deformity|scalp lac 3 cm|no acute distress].\n");
  w.T("Plan: [CT head/c-spine, FAST|XR L forearm, ortho consult|CT A/P, serial abd exams].[ "
      "Trauma surgery ({dr2}) at bedside.|]\n");
  if (w.Chance(0.3)) w.T("Transferred to {fac2} at {time}. Accepting {dr2}.\n");
  w.T("{dr}\n");
}

// ------------------------------------------------------------ face sheet

void WriteFacesheet(NoteWriter& w) {
  w.T("[REGISTRATION FACE SHEET|PATIENT DEMOGRAPHICS|Face Sheet|ADMISSION REGISTRATION]\n");
  w.T("{fac}\n");
  w.T("Name: {ptlf}[   Preferred: {ptnick}|]\n");
  w.T("MRN: {mrn}   Acct: {acct}\n");
  w.T("DOB: {dob}   Age: {age}   Sex: {sex}\n");
  w.T("SSN: {ssn}\n");
  w.T("Address: {fulladdr}\n");
  if (w.Chance(0.5)) w.T("County: {county}\n");
  w.T("Home: {phone}   Cell: {cell}[   Work: {workphone}|]\n");
  w.T("Email: {email}\n");
  if (w.Chance(0.5)) w.T("Employer: {employer}   Employee ID: {empid}\n");
  w.T("Emergency contact: {relfull} ({relrole}) {relphone}\n");
  w.T("Primary insurance: {planname}   Member ID: {plan}\n");
  if (w.Chance(0.6)) w.T("Medicare MBI: {mbi}\n");
  w.T("Driver's license: {state} {dl}\n");
  if (w.Chance(0.6)) w.T("Photo on file: {photo}\n");
  if (w.Chance(0.6)) {
    w.T("Biometric check-in: [palm vein|fingerprint|iris|voiceprint] template {bio}\n");
  }
  if (w.Chance(0.5)) w.T("Portal: {url}  last login from {ip}\n");
  if (w.Chance(0.4)) w.T("Research: enrolled, study ID {studyid}\n");
  if (w.Chance(0.4)) w.T("Parking permit: {car}, plate {plate}, VIN {vin}\n");
  if (w.Chance(0.4)) w.T("Implanted device: {device}, SN {serial}, UDI {udi}\n");
  w.T("PCP: {pcp}   NPI {npi}\n");
  if (w.Chance(0.3)) w.T("Interpreter: {other}, {intlphone}\n");
  w.T("Registered by: {other}  {dtime}\n");
}

}  // namespace

void WriteStyle(Style style, NoteWriter& w) {
  switch (style) {
    case Style::kMix:
    case Style::kIcu:
      WriteIcu(w);
      break;
    case Style::kDischarge:
      WriteDischarge(w);
      break;
    case Style::kReferral:
      WriteReferral(w);
      break;
    case Style::kUpper:
      WriteUpper(w);
      break;
    case Style::kLower:
      WriteLower(w);
      break;
    case Style::kLab:
      WriteLab(w);
      break;
    case Style::kEmail:
      WriteEmail(w);
      break;
    case Style::kPortal:
      WritePortal(w);
      break;
    case Style::kEd:
      WriteEd(w);
      break;
    case Style::kFacesheet:
      WriteFacesheet(w);
      break;
  }
}

}  // namespace phigate::synth::internal
