"""The syllabus covers the whole lecture, and its notebooks and the notebooks/ folder agree."""
from pathlib import Path

import pytest

from course.syllabus import (
    LECTURE_SLIDES,
    NOTEBOOKS,
    REPO_ROOT,
    SLIDE_TOPICS,
    find_notebook,
    notebook_for_topic,
    notebook_paths,
)


def test_every_slide_after_the_title_belongs_to_a_topic():
    covered = {slide for topic in SLIDE_TOPICS.values() for slide in topic.slides}
    assert covered == set(range(2, LECTURE_SLIDES + 1))


def test_every_topic_is_taught_in_exactly_one_notebook_and_notebooks_name_only_known_topics():
    taught = [key for notebook in NOTEBOOKS for key in notebook.topics]
    assert sorted(taught) == sorted(SLIDE_TOPICS)
    for key in SLIDE_TOPICS:
        assert key in notebook_for_topic(key).topics


def test_notebooks_are_numbered_in_lecture_order():
    names = [notebook.name for notebook in NOTEBOOKS]
    assert [name[:3] for name in names] == [f"{n:02d}_" for n in range(1, len(NOTEBOOKS) + 1)]
    first_slides = [min(SLIDE_TOPICS[key].slides[0] for key in notebook.topics) for notebook in NOTEBOOKS]
    assert first_slides == sorted(first_slides)


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda notebook: notebook.name)
def test_syllabus_notebook_exists(notebook):
    assert (REPO_ROOT / notebook.path).is_file(), f"{notebook.path} is in the syllabus but not in the repository"
    if notebook.exercise is not None:
        assert (REPO_ROOT / notebook.exercise).is_file(), f"exercise {notebook.exercise} is missing"


def test_every_notebook_in_the_folder_is_in_the_syllabus():
    on_disk = {path.resolve() for path in (REPO_ROOT / "notebooks").glob("*.ipynb")}
    assert on_disk <= {path.resolve() for path in notebook_paths()}


def test_find_notebook_by_name_file_or_number():
    assert find_notebook("01_bayes").path == "notebooks/01_bayes.ipynb"
    assert find_notebook("03_approximate_inference.ipynb").name == "03_approximate_inference"
    assert find_notebook("7").name == "07_vae"
    assert find_notebook("08").name == "08_conditional_vae"
    with pytest.raises(KeyError, match="no lecture notebook called 'zz'"):
        find_notebook("zz")
    assert notebook_paths("/x")[0] == Path("/x/notebooks/01_bayes.ipynb")
