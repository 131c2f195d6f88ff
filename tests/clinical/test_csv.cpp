// CSV reader (quotes, missing tokens, errors with line / column / byte), tabular dataset builder
// (one-hot, class / value / survival labels, missing label → weight 0) and Standardizer.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>

#include "onestone/data/csv.hpp"
#include "onestone/onestone.hpp"

// This file's helpers and test cases live in a namespace of their own: an area's test files
// are compiled together in unity builds (tests/CMakeLists.txt, ONESTONE_TEST_UNITY_BATCH).
namespace test_clinical_csv {

using namespace onestone;
using data::CsvOptions;
using data::TabularOptions;

TEST_CASE("parse_csv: quotes, escapes, missing tokens, CRLF, blank lines", "[clinical][csv]") {
  const std::string text =
      "id,name,age,note\r\n"
      "1,\"Smith, J\",54,\"said \"\"hi\"\"\"\r\n"
      "\n"
      "2, Doe ,NA,\"two\nlines\"\n"
      "3,?,61,\"\"\n";
  const auto t = data::parse_csv(text, "inline.csv");
  REQUIRE(t.num_columns() == 4);
  REQUIRE(t.num_rows() == 3);
  CHECK(t.columns[1] == "name");
  CHECK(t.cell(0, 1) == "Smith, J");
  CHECK(t.cell(0, 3) == "said \"hi\"");
  CHECK(t.cell(1, 1) == "Doe");  // unquoted cells are trimmed
  CHECK(t.cell(1, 3) == "two\nlines");
  CHECK(t.is_missing(1, 2));
  CHECK(t.is_missing(2, 1));
  CHECK(t.is_missing(2, 3));  // quoted empty field
  CHECK_FALSE(t.is_missing(0, 2));
  CHECK(t.number(0, 2) == 54.0);
  CHECK(t.lines[0] == 2);
  CHECK(t.lines[1] == 4);
  CHECK(t.lines[2] == 6);
  // No header, another delimiter, skipped count line.
  const auto u = data::parse_csv("2;3\n1.5;x\n-2e3;y\n", "semi",
                                 CsvOptions().delimiter(';').header(false).skip_lines(1));
  REQUIRE(u.num_rows() == 2);
  CHECK(u.columns[0] == "c0");
  CHECK(u.number(1, 0) == -2000.0);
  CHECK_FALSE(u.is_number(0, 1));
}

TEST_CASE("parse_csv errors name the source, line, column and byte", "[clinical][csv][errors]") {
  CHECK_THROWS_WITH(data::parse_csv("a,b\n1,2\n3,4,5\n", "f.csv"),
                    Catch::Contains("f.csv") && Catch::Contains("line 3") &&
                        Catch::Contains("byte 8") && Catch::Contains("3 fields, expected 2"));
  CHECK_THROWS_WITH(data::parse_csv("a,b\n1\n", "f.csv"),
                    Catch::Contains("line 2") && Catch::Contains("1 fields, expected 2") &&
                        Catch::Contains("'a'"));
  CHECK_THROWS_WITH(data::parse_csv("a,b\n1,\"open\n2,3\n", "q.csv"),
                    Catch::Contains("q.csv") && Catch::Contains("line 2") &&
                        Catch::Contains("unterminated") && Catch::Contains("byte 6"));
  CHECK_THROWS_WITH(data::parse_csv("a,b\n\"x\"y,2\n", "q.csv"),
                    Catch::Contains("after a closing quote"));
  CHECK_THROWS_WITH(data::parse_csv("a,a\n1,2\n", "d.csv"), Catch::Contains("duplicate column"));
  CHECK_THROWS_WITH(data::parse_csv("", "e.csv"), Catch::Contains("no columns"));
  const auto t = data::parse_csv("a,b\n1,x\n", "n.csv");
  CHECK_THROWS_WITH(t.number(0, 1), Catch::Contains("n.csv: line 2, column 'b'") &&
                                        Catch::Contains("'x' is not a number"));
  CHECK_THROWS_WITH(t.column_index("zz"),
                    Catch::Contains("no column 'zz'") && Catch::Contains("a, b"));
  CHECK_THROWS_WITH(data::read_csv("/nonexistent/x.csv"), Catch::Contains("/nonexistent/x.csv"));
}

TEST_CASE("read_csv reads a file", "[clinical][csv]") {
  const std::string path = "onestone_test_clinical_read.csv";
  {
    std::ofstream f(path);
    f << "x,y\n1,2\n3,4\n";
  }
  const auto t = data::read_csv(path);
  std::remove(path.c_str());
  CHECK(t.source == path);
  CHECK(t.num_rows() == 2);
  CHECK(t.number(1, 1) == 4.0);
}

TEST_CASE("make_tabular: features, one-hot, labels, missing label → weight 0", "[clinical][csv]") {
  const std::string text =
      "id,age,sex,stage,dx,size,time,status\n"
      "1,50,M,II,benign,1.5,10,1\n"
      "2,NA,F,I,malignant,NA,20,0\n"
      "3,70,F,III,,2.5,5,1\n"
      "4,60,M,I,benign,3.0,NA,1\n";
  const auto table = data::parse_csv(text, "cohort.csv");
  const auto tab = data::make_tabular<double>(
      table, TabularOptions()
                 .classification("diagnosis", "dx", {"benign", "malignant"})
                 .regression("lesion_size", "size")
                 .survival("survival", "time", "status")
                 .drop({"id"})
                 .missing_indicators(true));
  const auto& ds = tab.dataset;
  // age, age?missing, sex=F, sex=M, stage=I, stage=II, stage=III.
  REQUIRE(tab.feature_names.size() == 7);
  CHECK(tab.feature_names[0] == "age");
  CHECK(tab.feature_names[1] == "age?missing");
  CHECK(tab.feature_names[2] == "sex=F");
  CHECK(tab.feature_names[6] == "stage=III");
  REQUIRE(ds.inputs().shape() == Shape{4, 7});
  CHECK(ds.inputs()[0] == 50.0);
  CHECK(std::isnan(ds.inputs()[7]));  // missing age: NaN until the Standardizer imputes it
  CHECK(ds.inputs()[8] == 1.0);       // its indicator
  CHECK(ds.inputs()[3] == 1.0);       // row 0 sex=M
  const auto& dx = ds.target("diagnosis");
  CHECK(dx.num_classes == 2);
  CHECK(dx.labels[1] == 1);
  CHECK(dx.weight_of(2) == 0.0);  // the missing label cell
  CHECK(dx.weight_of(0) == 1.0);
  CHECK(ds.target("lesion_size").weight_of(1) == 0.0);
  CHECK(ds.target("lesion_size").values[3] == 3.0);
  const auto& s = ds.target("survival");
  CHECK(s.kind == data::TargetKind::Composite);
  CHECK(s.field("time")[1] == 20.0);
  CHECK(s.field("event")[1] == 0.0);
  CHECK(s.weight_of(3) == 0.0);
  CHECK(s.weight_of(0) == 1.0);
  REQUIRE(tab.classes.size() == 1);
  CHECK(tab.classes[0].second[1] == "malignant");
  // Auto classes: numeric order.
  const auto t2 = data::parse_csv("x,y\n1,10\n2,2\n3,10\n", "n.csv");
  const auto tab2 = data::make_tabular<float>(t2, TabularOptions().classification("y", "y"));
  CHECK(tab2.classes[0].second == std::vector<std::string>{"2", "10"});
  CHECK(tab2.dataset.target("y").labels[0] == 1);
}

TEST_CASE("make_tabular errors name file, line, column and cell", "[clinical][csv][errors]") {
  const auto t = data::parse_csv("a,b,t,e\n1,2,3,1\n4,x5,6,0\n7,8,-1,1\n", "bad.csv");
  CHECK_THROWS_WITH(data::make_tabular<float>(t, TabularOptions().regression("b", "b")),
                    Catch::Contains("bad.csv: line 3, column 'b'") && Catch::Contains("'x5'"));
  CHECK_THROWS_WITH(data::make_tabular<float>(t, TabularOptions().numeric({"b"})),
                    Catch::Contains("line 3, column 'b'") && Catch::Contains("'x5'"));
  CHECK_THROWS_WITH(data::make_tabular<float>(t, TabularOptions().survival("s", "t", "e")),
                    Catch::Contains("line 4, column 't'") && Catch::Contains("negative"));
  const auto t2 = data::parse_csv("a,t,e\n1,3,2\n", "ev.csv");
  CHECK_THROWS_WITH(data::make_tabular<float>(t2, TabularOptions().survival("s", "t", "e")),
                    Catch::Contains("line 2, column 'e'") && Catch::Contains("not 0"));
  CHECK_THROWS_WITH(
      data::make_tabular<float>(t, TabularOptions().classification("c", "a", {"1", "4"})),
      Catch::Contains("line 4, column 'a'") && Catch::Contains("'7'"));
  CHECK_THROWS_WITH(data::make_tabular<float>(t, TabularOptions().regression("x", "nope")),
                    Catch::Contains("no column 'nope'"));
  CHECK_THROWS_WITH(
      data::make_tabular<float>(t, TabularOptions().features({"a"}).regression("a", "a")),
      Catch::Contains("both a feature and a label"));
  CHECK_THROWS_WITH(data::make_tabular<float>(t, TabularOptions().max_categories(2)),
                    Catch::Contains("distinct values") && Catch::Contains("x5"));
}

TEST_CASE("Standardizer: fitted on train, imputes the train mean, constant columns",
          "[clinical][csv]") {
  const auto table = data::parse_csv("a,k,c\n1,5,0\n3,5,1\nNA,5,0\n5,5,1\n", "s.csv");
  auto tab = data::make_tabular<double>(table, TabularOptions().regression("c", "c"));
  const auto train = tab.dataset.subset(0, 2), test = tab.dataset.subset(2, 4);
  data::Standardizer<double> s;
  CHECK_THROWS_AS(s.apply(train), std::logic_error);
  s.fit(train);  // a: mean 2, sd 1; k constant
  CHECK(s.mean()[0] == 2.0);
  CHECK(s.sd()[0] == 1.0);
  CHECK(s.sd()[1] == 0.0);
  const auto z = s.apply(test);
  CHECK(z.inputs()[0] == 0.0);          // missing → train mean → 0
  CHECK(z.inputs()[2] == Approx(3.0));  // (5 − 2) / 1
  CHECK(z.inputs()[1] == 0.0);          // constant column: 0, no division by zero
  CHECK(z.inputs()[3] == 0.0);
  CHECK(z.target("c").values[1] == 1.0);  // targets untouched
  // Value targets too, on request (statistics over the labelled training rows).
  data::Standardizer<double> sv;
  sv.standardize_values(true).fit(train);  // c: 0, 1 → mean 0.5, sd 0.5
  const auto zv = sv.apply(test);
  CHECK(zv.target("c").values[0] == Approx(-1.0));
  CHECK(zv.target("c").values[1] == Approx(1.0));
  const data::Dataset<double> wide(Tensor<double>(Shape{2, 3}));
  CHECK_THROWS_WITH(s.apply(wide), Catch::Contains("fitted on 2 columns"));
}

}  // namespace test_clinical_csv
