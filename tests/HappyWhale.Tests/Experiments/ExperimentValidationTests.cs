using HappyWhale.Experiments;

namespace HappyWhale.Tests.Experiments;

public class ExperimentValidationTests
{
    private static ExperimentError SingleError(string yaml, params string[] sets)
    {
        using var files = new ExperimentFiles();
        files.Write("e.yaml", yaml);
        return Assert.Single(files.Fail("e", sets).Errors);
    }

    private static void AssertAt(ExperimentError error, int line, int column, string messagePart)
    {
        Assert.Equal((line, column), (error.Line, error.Column));
        Assert.Contains(messagePart, error.Message);
    }

    [Fact]
    public void Unknown_key_suggests_the_nearest_sibling()
    {
        var error = SingleError("train:\n  batchsize: 8\n");
        Assert.EndsWith("e.yaml", error.Source);
        AssertAt(error, 2, 3, "unknown key 'train.batchsize'; did you mean train.batch_size?");
    }

    [Fact]
    public void Unknown_key_far_from_everything_lists_the_valid_keys()
    {
        var error = SingleError("model:\n  head:\n    zzzzzzzz: 1\n");
        AssertAt(error, 3, 5, "valid keys under model.head: type, k, s, m, easy_margin, dynamic_margin, margin_a, margin_b, margin_c");
    }

    [Fact]
    public void Unknown_key_inside_a_list_element()
    {
        var error = SingleError("train:\n  phases:\n    - epochs: 2\n      lrr: 0.1\n");
        AssertAt(error, 4, 7, "did you mean train.phases.0.lr?");
    }

    [Fact]
    public void Per_element_key_on_the_parent_points_into_the_list()
    {
        var error = SingleError("", "train.lr=3e-4");
        AssertAt(error, 1, 13, "unknown key 'train.lr'; did you mean train.phases.0.lr? (lr is set per element of train.phases)");
    }

    [Fact]
    public void Wrong_type()
    {
        AssertAt(SingleError("prepare:\n  grayscale: maybe\n"), 2, 14, "prepare.grayscale must be bool, not 'maybe'");
        AssertAt(SingleError("data:\n  folds: 2.5\n"), 2, 10, "data.folds must be int");
        AssertAt(SingleError("data:\n  folds: \"5\"\n"), 2, 10, "data.folds must be int");
        AssertAt(SingleError("model:\n  head: arcface\n"), 2, 9, "model.head must be a map");
        AssertAt(SingleError("train:\n  batch_size: [1]\n"), 2, 15, "train.batch_size must be int, not a list");
        AssertAt(SingleError("train:\n  phases: {epochs: 1}\n"), 2, 11, "train.phases must be a list of maps");
        AssertAt(SingleError("train:\n  phases: []\n"), 2, 11, "needs at least one element");
    }

    [Fact]
    public void Null_only_where_the_schema_allows_it()
    {
        AssertAt(SingleError("data:\n  seed: null\n"), 2, 9, "data.seed must be int, not null");
        using var files = new ExperimentFiles();
        files.Write("ok.yaml", "data:\n  root: ~\ntrain:\n  phases:\n    - image_size: null\n");
        files.Load("ok");
    }

    [Fact]
    public void Out_of_range()
    {
        AssertAt(SingleError("data:\n  folds: 1\n"), 2, 10, "data.folds = 1 is out of range [2, 100]");
        AssertAt(SingleError("model:\n  head:\n    m: 2.0\n"), 3, 8, "[0, 1.5]");
        AssertAt(SingleError("evaluate:\n  new_individual_threshold: -1.5\n"), 2, 29, "out of range [-1, 1]");
    }

    [Fact]
    public void Not_one_of_the_choices()
    {
        AssertAt(SingleError("train:\n  device: cdua\n"), 2, 11, "train.device must be one of auto|cpu|cuda|cuda:N, not 'cdua'; did you mean cuda?");
    }

    [Fact]
    public void Yaml_syntax_error()
    {
        var error = SingleError("train:\n  batch_size: [1, 2\n");
        Assert.EndsWith("e.yaml", error.Source);
        Assert.True(error.Line >= 2, error.ToString());
        Assert.True(error.Column >= 1);
        Assert.Contains("YAML syntax error", error.Message);
    }

    [Fact]
    public void Duplicate_key()
    {
        AssertAt(SingleError("train:\n  seed: 1\n  seed: 2\n"), 3, 3, "duplicate key 'seed'");
    }

    [Fact]
    public void File_must_be_a_map()
    {
        AssertAt(SingleError("- a\n- b\n"), 1, 1, "must be a map of keys");
    }

    [Fact]
    public void Set_errors_point_into_the_argument()
    {
        // Columns count within "--set <argument>": "--set " is 6 characters.
        var unknown = SingleError("", "train.batchsize=3");
        Assert.Equal("--set train.batchsize=3", unknown.Source);
        AssertAt(unknown, 1, 13, "did you mean train.batch_size?");

        var badValue = SingleError("", "train.batch_size=abc");
        Assert.Equal("--set train.batch_size=abc", badValue.Source);
        AssertAt(badValue, 1, 24, "train.batch_size must be int, not 'abc'");

        AssertAt(SingleError("", "train.batch_size"), 1, 7, "expected key=value");
        AssertAt(SingleError("", "train.phases.5.epochs=1"), 1, 20, "index 5 is out of range");
        AssertAt(SingleError("", "train.seed.x=1"), 1, 18, "train.seed is '1', not a map or list");
        Assert.Contains("YAML syntax error", SingleError("", "train.phases=[{epochs: 2}").Message);
    }

    [Fact]
    public void All_errors_are_collected_and_listed_one_per_line()
    {
        using var files = new ExperimentFiles();
        var path = files.Write("e.yaml", """
            extends: missing.yaml
            data:
              folds: 0
              sourse: kaggle
            train:
              device: tpu
              phases:
                - epochs: zero
            """);
        var e = files.Fail("e", "model.backbone=resnet9000", "prepare.resize=crop");
        Assert.Equal(7, e.Errors.Count);
        var lines = e.Message.Split(Environment.NewLine);
        Assert.Equal(7, lines.Length);
        Assert.StartsWith("--set prepare.resize=crop:1:22: prepare.resize must be one of squash|letterbox, not 'crop'", lines[6]);
        // File errors top to bottom, then --set errors in argument order.
        Assert.StartsWith($"{path}:1:10: extends: cannot find 'missing.yaml'", lines[0]);
        Assert.StartsWith($"{path}:3:10: data.folds = 0 is out of range", lines[1]);
        Assert.StartsWith($"{path}:4:3: unknown key 'data.sourse'; did you mean data.source?", lines[2]);
        Assert.StartsWith($"{path}:6:11: train.device must be one of", lines[3]);
        Assert.StartsWith($"{path}:8:15: train.phases.0.epochs must be int", lines[4]);
        Assert.StartsWith("--set model.backbone=resnet9000:1:22: model.backbone must be one of", lines[5]);
    }
}
