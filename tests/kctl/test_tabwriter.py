from kctl.tabwriter import align


def test_columns_align_within_blocks_of_lines_with_cells():
    text = "Name:\tweb\nService Account:\tdefault\nContainers:\n  web:\n    Image:\tx"

    assert align(text) == ("Name:             web\n"
                           "Service Account:  default\n"
                           "Containers:\n"
                           "  web:\n"
                           "    Image:  x")


def test_last_cell_is_not_padded_and_nested_columns_align():
    text = "a\tbb\tc\naaa\tb\tcc"

    assert align(text) == "a    bb  c\naaa  b   cc"
