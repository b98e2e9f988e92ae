"""What kind of thing a question asks for, and whether a text holds one."""

from __future__ import annotations

from rag.answer_type import expected_type, given_figures, holds_new, matches_type


def test_expected_answer_types():
    assert expected_type("How many children did Tajikistan repatriate?") == "number"
    assert expected_type("What percentage of GDP came from remittances?") == "share"
    assert expected_type("How long were returnees kept in quarantine?") == "duration"
    assert expected_type("How much did the fine for each child cost?") == "money"
    assert expected_type("What was the average age of the women?") == "age"
    assert matches_type("kept in quarantine for two to three weeks", "duration") and not matches_type("twenty children", "duration")
    assert matches_type("a fine of $500", "money") and not matches_type("spent twenty days in Iraq", "money")
    assert matches_type("23% of the population", "share") and matches_type("aged between 2 and 18", "age")
    assert expected_type("When did Operation Meerim take place?") == "date"
    assert expected_type("Who directs Barqaror Hayot?") is None
    assert matches_type("On April 30th, 2019, 84 children were repatriated", "number")
    assert matches_type("in March 2021", "date") and not matches_type("in the spring", "date")
    # every number word the report spells out counts: "Sixteen ... centers have been established" answers "how many"
    assert matches_type("Sixteen rehabilitation centers", "number") and matches_type("for eighteen months", "duration")
    assert expected_type("How did children react when aircraft flew over?") is None  # "when" as a conjunction


def test_a_question_asking_who_which_or_why_is_not_asking_for_the_figure_it_mentions():
    assert expected_type("Which Kazakh city hosts the largest number of returnees?") is None
    assert expected_type("Why are there no official figures on how many Central Asians left?") is None
    assert expected_type("Who is the source for the number of Tajik citizens still in Al-Hawl?") is None
    # ... unless a clause of its own asks for it
    assert expected_type("Which state alone has repatriated men, and how many did it bring back?") == "number"
    assert expected_type("According to Table 1, how many men did Kazakhstan repatriate?") == "number"
    assert expected_type("Which year did Kazakhstan start Operation Zhusan?") == "date"
    assert expected_type("Who founded Barqaror Hayot, and in what year?") == "date"


def test_a_figure_the_question_gives_is_not_an_answer_to_it():
    given = given_figures("How many of the 79 children repatriated to Kyrgyzstan were girls?")
    assert given == {"79"}
    assert not holds_new("The 79 children were placed in a rehabilitation centre.", "number", given)
    assert holds_new("Of the 79 children, 41 were girls.", "number", given)
    assert holds_new("Of the 79 children, most were girls.", "share", given)
    assert given_figures("In how many cases did 1,200 tests fail in 2019?") == {"1,200", "2019"}
    spelled = given_figures("How many of Kazakhstan's Sixteen centres are in Almaty?")
    assert not holds_new("sixteen centres have been established", "number", spelled)
    assert holds_new("Sixteen centres were set up, three of them in Almaty", "number", spelled)
