#include "phigate/breach/deadlines.h"

#include <map>
#include <string>

#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace phigate::breach {
namespace {

Date D(const char* s) { return ParseDate(s).value(); }

class DeadlinesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto t = RuleTable::Load(testing::SourceDir() + "/data/breach/breach-deadlines.tsv");
    ASSERT_TRUE(t.ok()) << t.status();
    table_ = new RuleTable(std::move(t).value());
  }
  static void TearDownTestSuite() { delete table_; }

  PlanResult Plan(const IncidentFacts& f) {
    auto r = ComputeObligations(*table_, f);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? std::move(r).value() : PlanResult{};
  }
  // rule id (or "id/STATE" for federal per-state rows) -> due date ("none" when no fixed date).
  static std::map<std::string, std::string> Dues(const PlanResult& p) {
    std::map<std::string, std::string> out;
    for (const Obligation& o : p.obligations) {
      std::string key = o.rule_id;
      if (const size_t s = o.jurisdiction.find('/'); s != std::string::npos) {
        key += o.jurisdiction.substr(s);
      }
      out[key] = o.due ? FormatDate(*o.due) : "none";
    }
    return out;
  }
  static IncidentFacts Ce(const char* discovery, std::map<std::string, int64_t> states) {
    IncidentFacts f;
    f.discovery = D(discovery);
    f.role = EntityRole::kCoveredEntity;
    f.residents_by_state = std::move(states);
    return f;
  }
  static RuleTable* table_;
};
RuleTable* DeadlinesTest::table_ = nullptr;

TEST_F(DeadlinesTest, TableLoadsAllRowsWithVersion) {
  EXPECT_EQ(table_->rules().size(), 87u);
  EXPECT_EQ(table_->version(), "2026-11-30.1");
  const Rule* media = table_->Find("us-hipaa.media");
  ASSERT_NE(media, nullptr);
  EXPECT_EQ(media->comparator, Comparator::kGreater);
  EXPECT_EQ(media->threshold_count, 500);
  const Rule* hhs = table_->Find("us-hipaa.hhs");
  ASSERT_NE(hhs, nullptr);
  EXPECT_EQ(hhs->comparator, Comparator::kGreaterEqual);
}

TEST_F(DeadlinesTest, ParseRejectsBadCellsNamingTheColumn) {
  auto bad = RuleTable::Parse(
      "id\tjurisdiction\twho_is_notified\tthreshold\tdeadline_days\tday_kind\tclock_"
      "starts\tsource\t"
      "confidence\trecipient_kind\tcomparator\tthreshold_count\tscope\trelative_to\tdue_days\t"
      "must_precede\tno_later_than\tapplies_to\tle_delay\thipaa_effect\n"
      "x.y\tXX\tw\tt\t5\tcalendar\tc\ts\thigh\tregulator\t=>"
      "\t5\ttotal\tdiscovery\t5\t\t\tall\tnone\t"
      "none\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(std::string(bad.status().message()).find("comparator"), std::string::npos);
  EXPECT_FALSE(RuleTable::Parse("id\tjurisdiction\n").ok());
}

TEST_F(DeadlinesTest, MonthEndAndLeapYearDiscoveries) {
  struct Row {
    const char* discovery;
    const char* hipaa_individuals;
    const char* ca_individuals;
  } rows[] = {
      {"2026-01-31", "2026-04-01", "2026-03-02"},
      {"2028-01-31", "2028-03-31", "2028-03-01"},
      {"2028-02-29", "2028-04-29", "2028-03-30"},
      {"2026-12-31", "2027-03-01", "2027-01-30"},
  };
  for (const Row& r : rows) {
    auto dues = Dues(Plan(Ce(r.discovery, {{"CA", 3}})));
    EXPECT_EQ(dues["us-hipaa.individuals"], r.hipaa_individuals) << r.discovery;
    EXPECT_EQ(dues["ca.individuals"], r.ca_individuals) << r.discovery;
  }
}

TEST_F(DeadlinesTest, ThresholdsAtExactly250_500_501_1000) {
  // HHS: >= 500 total -> with the individual notice; 499 -> annual log.
  auto d499 = Dues(Plan(Ce("2026-03-02", {{"WI", 499}})));
  EXPECT_FALSE(d499.contains("us-hipaa.hhs"));
  EXPECT_EQ(d499["us-hipaa.hhs-annual-log"], "2027-03-01");
  auto d500 = Dues(Plan(Ce("2026-03-02", {{"WI", 500}})));
  EXPECT_EQ(d500["us-hipaa.hhs"], "2026-05-01");
  EXPECT_FALSE(d500.contains("us-hipaa.hhs-annual-log"));
  // Media: > 500 residents of one state. 500 does not trigger, 501 does.
  EXPECT_FALSE(d500.contains("us-hipaa.media/WI"));
  auto d501 = Dues(Plan(Ce("2026-03-02", {{"WI", 501}})));
  EXPECT_EQ(d501["us-hipaa.media/WI"], "2026-05-01");
  // Media counts per state, not in total: 2 x 400 = 800 total, no state over 500.
  auto split = Dues(Plan(Ce("2026-03-02", {{"WI", 400}, {"OH", 400}})));
  EXPECT_FALSE(split.contains("us-hipaa.media/WI"));
  EXPECT_FALSE(split.contains("us-hipaa.media/OH"));
  EXPECT_EQ(split["us-hipaa.hhs"], "2026-05-01");
  // TX AG: >= 250.
  EXPECT_FALSE(Dues(Plan(Ce("2026-03-02", {{"TX", 249}}))).contains("tx.ag"));
  EXPECT_EQ(Dues(Plan(Ce("2026-03-02", {{"TX", 250}})))["tx.ag"], "2026-04-01");
  // OR AG: > 250.
  EXPECT_FALSE(Dues(Plan(Ce("2026-03-02", {{"OR", 250}}))).contains("or.ag"));
  EXPECT_TRUE(Dues(Plan(Ce("2026-03-02", {{"OR", 251}}))).contains("or.ag"));
  // AL AG: > 1,000.
  EXPECT_FALSE(Dues(Plan(Ce("2026-03-02", {{"AL", 1000}}))).contains("al.ag"));
  EXPECT_EQ(Dues(Plan(Ce("2026-03-02", {{"AL", 1001}})))["al.ag"], "2026-04-16");
  // CA AG: > 500, 15 days after individuals are notified.
  EXPECT_FALSE(Dues(Plan(Ce("2026-03-02", {{"CA", 500}}))).contains("ca.ag"));
  EXPECT_EQ(Dues(Plan(Ce("2026-03-02", {{"CA", 501}})))["ca.ag"], "2026-04-16");
}

TEST_F(DeadlinesTest, AnnualLogForSmallBreachDiscoveredOnDec31) {
  EXPECT_EQ(Dues(Plan(Ce("2026-12-31", {{"WI", 12}})))["us-hipaa.hhs-annual-log"], "2027-03-01");
  // 2028 is a leap year: Dec 31 2027 + 60 days = Feb 29 2028.
  EXPECT_EQ(Dues(Plan(Ce("2027-12-31", {{"WI", 12}})))["us-hipaa.hhs-annual-log"], "2028-02-29");
  // Discovered Jan 1: still the end of the same calendar year.
  EXPECT_EQ(Dues(Plan(Ce("2027-01-01", {{"WI", 12}})))["us-hipaa.hhs-annual-log"], "2028-02-29");
}

// A code no rule is keyed by ("ca", "ZZ") silently dropped that state's
// obligations (CA's and NY's 30 days) from the plan: refused instead.
TEST_F(DeadlinesTest, UnknownOrLowerCaseStateCodesAreRefused) {
  for (const char* code : {"ca", "ny", "ZZ", "C1", ""}) {
    auto r = ComputeObligations(*table_, Ce("2026-03-02", {{code, 800}}));
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << code;
  }
  EXPECT_EQ(Dues(Plan(Ce("2026-03-02", {{"CA", 800}})))["ca.individuals"], "2026-04-01");
  EXPECT_TRUE(
      ComputeObligations(*table_, Ce("2026-03-02", {{"??", 3}, {"PR", 1}, {"DC", 2}})).ok());
}

// A total larger than the states' sum: the plan says which obligations it
// could not compute (5,000 people in unknown states may owe a media notice).
TEST_F(DeadlinesTest, AffectedWithoutAStateAreCalledOut) {
  IncidentFacts f = Ce("2026-03-02", {{"CA", 10}});
  EXPECT_EQ(Plan(f).unplaced, 0);
  EXPECT_EQ(UnplacedWarning(Plan(f)), "");
  f.total_affected = 5000;
  PlanResult p = Plan(f);
  EXPECT_EQ(p.unplaced, 4990);
  EXPECT_NE(UnplacedWarning(p).find("4990 affected individual(s) have no state"),
            std::string::npos);
  f.residents_by_state["??"] = 4990;  // recorded as unknown: placed
  EXPECT_EQ(Plan(f).unplaced, 0);
}

// `breach advance --to closed` refuses while a tracked notice is unsent: the
// individual and HHS rows are the ones phigate records the sending of.
TEST_F(DeadlinesTest, IndividualAndHhsRowsAreTheTrackedOnes) {
  PlanResult p = Plan(Ce("2026-03-02", {{"CA", 600}, {"NY", 3}}));
  int tracked = 0;
  for (const Obligation& o : p.obligations) {
    const bool want =
        o.recipient_kind == RecipientKind::kHhs ||
        (o.recipient_kind == RecipientKind::kIndividuals && o.owed_by != "licensed facility");
    EXPECT_EQ(o.sent_tracked, want) << o.rule_id;
    tracked += o.sent_tracked ? 1 : 0;
  }
  EXPECT_GE(tracked, 2);  // the HIPAA individual notice and HHS at least
  EXPECT_LT(tracked, static_cast<int>(p.obligations.size()));  // media, CA AG... are not
}

TEST_F(DeadlinesTest, BreachAcrossSeveralStatesEarliestFirst) {
  PlanResult p =
      Plan(Ce("2026-03-02", {{"CA", 501}, {"TX", 250}, {"NY", 10}, {"MD", 5}, {"FL", 600}}));
  auto dues = Dues(p);
  EXPECT_EQ(dues["ca.individuals"], "2026-04-01");
  EXPECT_EQ(dues["ca.ag"], "2026-04-16");
  EXPECT_EQ(dues["ny.individuals"], "2026-04-01");
  EXPECT_EQ(dues["ny.ag-dos-police"], "2026-04-01");
  EXPECT_EQ(dues["ny.ag-after-hhs"], "2026-05-08");  // 5 business days after Fri May 1
  EXPECT_EQ(dues["tx.individuals"], "2026-05-01");
  EXPECT_EQ(dues["tx.ag"], "2026-04-01");
  EXPECT_EQ(dues["fl.individuals"], "2026-04-01");
  EXPECT_EQ(dues["fl.ag"], "2026-04-01");
  EXPECT_EQ(dues["md.individuals"], "2026-04-16");
  EXPECT_EQ(dues["md.ag"], "2026-04-15");  // must precede the individual notice
  EXPECT_EQ(dues["us-hipaa.individuals"], "2026-05-01");
  EXPECT_EQ(dues["us-hipaa.hhs"], "2026-05-01");
  EXPECT_EQ(dues["us-hipaa.media/CA"], "2026-05-01");
  EXPECT_EQ(dues["us-hipaa.media/FL"], "2026-05-01");
  EXPECT_FALSE(dues.contains("us-hipaa.media/TX"));
  EXPECT_FALSE(dues.contains("il.ag"));  // no IL residents
  EXPECT_FALSE(dues.contains("ny.cra"));
  // Sorted: earliest first, rows without a fixed date last.
  ASSERT_FALSE(p.obligations.empty());
  EXPECT_EQ(FormatDate(*p.obligations.front().due), "2026-04-01");
  bool seen_none = false;
  for (size_t i = 1; i < p.obligations.size(); ++i) {
    const auto& a = p.obligations[i - 1];
    const auto& b = p.obligations[i];
    if (!a.due) seen_none = true;
    if (seen_none) {
      EXPECT_FALSE(b.due.has_value());
    } else if (b.due) {
      EXPECT_LE(std::chrono::sys_days{*a.due}, std::chrono::sys_days{*b.due});
    }
  }
  // The threshold comparison is recorded.
  for (const Obligation& o : p.obligations) {
    if (o.rule_id == "tx.ag") {
      EXPECT_EQ(o.threshold, ">= 250");
      EXPECT_EQ(o.count_compared, 250);
    }
  }
}

TEST_F(DeadlinesTest, ActualNoticeDatesReplaceProjections) {
  IncidentFacts f = Ce("2026-03-02", {{"CA", 501}, {"IA", 600}, {"NY", 2}});
  f.individual_notice_sent = D("2026-03-20");  // a Friday
  f.hhs_notified = D("2026-03-20");
  auto p = Plan(f);
  auto dues = Dues(p);
  EXPECT_EQ(dues["ca.ag"], "2026-04-04");
  EXPECT_EQ(dues["ia.ag"], "2026-03-27");            // 5 business days
  EXPECT_EQ(dues["ny.ag-after-hhs"], "2026-03-27");  // 5 business days after HHS
  EXPECT_EQ(dues["us-hipaa.hhs"], "2026-03-20");     // capped at the individual notice
  for (const Obligation& o : p.obligations) {
    if (o.rule_id == "ca.ag") {
      EXPECT_FALSE(o.projected);
    }
    if (o.rule_id == "us-hipaa.individuals") {
      ASSERT_TRUE(o.sent.has_value());
      EXPECT_FALSE(o.late);
    }
  }
  // Sent after the CA 30-day limit: that row is late, the HIPAA 60-day row is not.
  f.individual_notice_sent = D("2026-04-10");
  f.hhs_notified = D("2026-04-10");
  for (const Obligation& o : Plan(f).obligations) {
    if (o.rule_id == "ca.individuals") {
      EXPECT_TRUE(o.late);
    }
    if (o.rule_id == "us-hipaa.individuals") {
      EXPECT_FALSE(o.late);
    }
  }
}

TEST_F(DeadlinesTest, CaliforniaLicensedFacilityBusinessDaysSpanThanksgiving) {
  IncidentFacts f = Ce("2026-11-20", {{"CA", 3}});
  f.licensed_ca_facility = true;
  auto dues = Dues(Plan(f));
  EXPECT_EQ(dues["ca.cdph"], "2026-12-14");
  EXPECT_EQ(dues["ca.facility-patient"], "2026-12-14");
  // Without the licence flag the facility rows do not apply.
  EXPECT_FALSE(Dues(Plan(Ce("2026-11-20", {{"CA", 3}}))).contains("ca.cdph"));
}

TEST_F(DeadlinesTest, IllinoisAndNewYorkFiveBusinessDaysAfterHhsOverChristmas) {
  IncidentFacts f = Ce("2026-11-02", {{"IL", 700}, {"NY", 700}});
  f.hhs_notified = D("2026-12-22");
  f.individual_notice_sent = D("2026-12-01");
  auto dues = Dues(Plan(f));
  EXPECT_EQ(dues["il.ag-after-hhs"], "2026-12-30");
  EXPECT_EQ(dues["ny.ag-after-hhs"], "2026-12-30");
  EXPECT_EQ(dues["il.ag"], "2026-12-01");  // > 500 IL residents: no later than individual notice
  EXPECT_FALSE(dues.contains("ny.cra"));   // <= 5,000 NY residents: not triggered
}

TEST_F(DeadlinesTest, LawEnforcementOralDelayTollsAtMost30Days) {
  IncidentFacts f = Ce("2026-03-02", {{"WI", 600}});
  f.le_delay = LawEnforcementDelay{.oral_statement = D("2026-03-10")};
  PlanResult p = Plan(f);
  ASSERT_TRUE(p.le_delay_end.has_value());
  EXPECT_EQ(FormatDate(*p.le_delay_end), "2026-04-09");
  auto dues = Dues(p);
  EXPECT_EQ(dues["us-hipaa.individuals"], "2026-05-31");
  EXPECT_EQ(dues["us-hipaa.media/WI"], "2026-05-31");
  EXPECT_EQ(dues["us-hipaa.hhs"], "2026-05-31");
  EXPECT_EQ(dues["wi.individuals"], "2026-05-16");  // 45 days + 30 tolled

  // A written statement after the 30-day oral period does not extend it.
  f.le_delay->written_received = D("2026-04-20");
  f.le_delay->written_until = D("2026-06-30");
  EXPECT_EQ(Dues(Plan(f))["us-hipaa.individuals"], "2026-05-31");
  // Within the period it does.
  f.le_delay->written_received = D("2026-03-20");
  EXPECT_EQ(Dues(Plan(f))["us-hipaa.individuals"], "2026-08-21");
}

TEST_F(DeadlinesTest, LawEnforcementWrittenDelayUntilTheDateGiven) {
  IncidentFacts f = Ce("2026-03-02", {{"WI", 20}});
  f.le_delay =
      LawEnforcementDelay{.written_received = D("2026-03-10"), .written_until = D("2026-06-30")};
  auto dues = Dues(Plan(f));
  EXPECT_EQ(dues["us-hipaa.individuals"], "2026-08-21");     // 60 + 112 tolled days
  EXPECT_EQ(dues["us-hipaa.hhs-annual-log"], "2027-03-01");  // the annual log is not delayed
  // A delay ending before the due date still tolls; one starting after it does not apply.
  f.le_delay =
      LawEnforcementDelay{.written_received = D("2026-06-01"), .written_until = D("2026-06-30")};
  EXPECT_EQ(Dues(Plan(f))["us-hipaa.individuals"], "2026-05-01");
  // Written without its end date is refused.
  f.le_delay = LawEnforcementDelay{.written_received = D("2026-03-10")};
  EXPECT_FALSE(ComputeObligations(*table_, f).ok());
}

TEST_F(DeadlinesTest, CaliforniaFacilityRestartsAfterTheDelayEnds) {
  IncidentFacts f = Ce("2026-11-20", {{"CA", 3}});
  f.licensed_ca_facility = true;
  f.le_delay =
      LawEnforcementDelay{.written_received = D("2026-11-20"), .written_until = D("2026-11-25")};
  EXPECT_EQ(Dues(Plan(f))["ca.cdph"], "2026-12-17");
}

TEST_F(DeadlinesTest, BusinessAssociateOwesTheCoveredEntityAndDataOwners) {
  IncidentFacts f = Ce("2026-03-02", {{"CA", 10}, {"FL", 4}});
  f.role = EntityRole::kBusinessAssociate;
  PlanResult p = Plan(f);
  auto dues = Dues(p);
  EXPECT_EQ(dues["us-hipaa.ba-to-ce"], "2026-05-01");
  EXPECT_EQ(dues["ca.data-owner"], "2026-03-02");  // immediately
  EXPECT_EQ(dues["fl.agent-to-owner"], "2026-03-12");
  EXPECT_FALSE(dues.contains("us-hipaa.individuals"));  // CE's clock not started (not an agent)
  EXPECT_FALSE(p.not_applicable.empty());
  // A BAA with a 10-day window shortens the BA -> CE notice.
  f.baa_notice_days = 10;
  EXPECT_EQ(Dues(Plan(f))["us-hipaa.ba-to-ce"], "2026-03-12");
  f.baa_notice_days.reset();
  // As the CE's agent, the CE's clock starts at the BA's discovery.
  f.ba_is_agent = true;
  PlanResult agent = Plan(f);
  auto d2 = Dues(agent);
  EXPECT_EQ(d2["us-hipaa.individuals"], "2026-05-01");
  for (const Obligation& o : agent.obligations) {
    if (o.rule_id == "us-hipaa.individuals") {
      EXPECT_EQ(o.owed_by, "covered entity (data owner)");
    }
  }
  // Not an agent, CE notified on Mar 16: the CE's 60 days run from then.
  f.ba_is_agent = false;
  f.ce_notified = D("2026-03-16");
  EXPECT_EQ(Dues(Plan(f))["us-hipaa.individuals"], "2026-05-15");
}

TEST_F(DeadlinesTest, NoFixedDeadlineAndExemptRows) {
  IncidentFacts f = Ce("2026-03-02", {{"MA", 3}, {"NM", 2000}, {"NY", 6000}});
  PlanResult p = Plan(f);
  auto dues = Dues(p);
  EXPECT_EQ(dues["ma.ag-ocabr"], "none");
  EXPECT_EQ(dues["ny.cra"], "none");
  EXPECT_FALSE(dues.contains("nm.individuals"));  // HIPAA entities exempt under NM law
  bool nm_listed = false;
  for (const auto& [id, why] : p.not_applicable) nm_listed |= id == "nm.individuals";
  EXPECT_TRUE(nm_listed);
  EXPECT_FALSE(p.obligations.back().due.has_value());
}

TEST_F(DeadlinesTest, NyNoHarmDeterminationOnlyWhenRecorded) {
  IncidentFacts f = Ce("2026-03-02", {{"NY", 501}});
  EXPECT_FALSE(Dues(Plan(f)).contains("ny.ag-no-harm-determination"));
  f.no_harm_determination = D("2026-03-05");
  EXPECT_EQ(Dues(Plan(f))["ny.ag-no-harm-determination"], "2026-03-15");
}

TEST_F(DeadlinesTest, RejectsInconsistentFacts) {
  IncidentFacts f = Ce("2026-03-02", {{"CA", -1}});
  EXPECT_FALSE(ComputeObligations(*table_, f).ok());
  f = Ce("2026-03-02", {{"CA", 5}});
  f.individual_notice_sent = D("2026-03-01");
  EXPECT_FALSE(ComputeObligations(*table_, f).ok());
}

}  // namespace
}  // namespace phigate::breach
