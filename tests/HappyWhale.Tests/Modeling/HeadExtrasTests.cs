using HappyWhale.Experiments;
using HappyWhale.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace HappyWhale.Tests.Modeling;

public class HeadExtrasTests
{
    static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && (a == b).all().ToBoolean();

    static void Close(double expected, Tensor actual, double tol = 1e-5) =>
        Assert.InRange(actual.ToDouble(), expected - tol, expected + tol);

    [Fact]
    public void Sub_center_logits_use_the_best_centre_plus_margin()
    {
        using var _ = NewDisposeScope();
        using var head = new ArcMarginHead(2, 2, s: 10, m: 0.2, subCenters: 3);
        // class 0 centres at angles 0, 1.0, 2.0; class 1 centres at angles 3.0, -2.5, 1.4
        double[] angles = [0, 1.0, 2.0, 3.0, -2.5, 1.4];
        using (no_grad())
            head.Weight.copy_(tensor(angles.SelectMany(a => new[] { (float)Math.Cos(a), (float)Math.Sin(a) }).ToArray()).view(6, 2));
        double q = 0.9;
        var e = tensor(new[] { (float)Math.Cos(q), (float)Math.Sin(q) }).view(1, 2);
        var logits = head.Forward(e, tensor(new long[] { 0 }));
        double best0 = angles[..3].Select(a => Math.Cos(q - a)).Max();      // centre at 1.0: cos(0.1)
        double best1 = angles[3..].Select(a => Math.Cos(q - a)).Max();      // centre at 1.4: cos(0.5)
        Close(10 * Math.Cos(Math.Acos(best0) + 0.2), logits[0, 0]);
        Close(10 * best1, logits[0, 1]);
    }

    [Fact]
    public void Dynamic_margin_formula()
    {
        Assert.Equal(0.55, DynamicMargins.Margin(1, 0.5, -0.25, 0.05), 12);
        Assert.Equal(0.5 * 0.5 + 0.05, DynamicMargins.Margin(16, 0.5, -0.25, 0.05), 12);
        Assert.Equal(0.5 * Math.Pow(81, -0.25) + 0.05, DynamicMargins.Margin(81, 0.5, -0.25, 0.05), 12);
        Assert.Throws<ArgumentOutOfRangeException>(() => DynamicMargins.Margin(0, 0.5, -0.25, 0.05));

        var margins = DynamicMargins.FromLabels([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 2], 4, 0.5, -0.25, 0.05);
        Assert.Equal(4, margins.Length);
        Assert.Equal(0.30f, margins[0], 5);                                   // 16 images
        Assert.Equal(0.55f, margins[1], 5);                                   // 1 image
        Assert.Equal((float)(0.5 * Math.Pow(2, -0.25) + 0.05), margins[2], 5);
        Assert.Equal(0.55f, margins[3], 5);                                   // unseen: as one image
        Assert.True(margins[1] > margins[2] && margins[2] > margins[0]);      // rare classes get larger margins
    }

    [Fact]
    public void Dynamic_margins_reach_the_logits_and_stay_finite_at_cos_plus_minus_one()
    {
        using var _ = NewDisposeScope();
        using var head = new ArcMarginHead(2, 2, s: 1, m: 0.3, subCenters: 2);
        using (no_grad()) head.Weight.copy_(tensor(new float[] { 1, 0, 1, 0, -1, 0, -1, 0 }).view(4, 2));
        var margins = tensor(DynamicMargins.FromLabels([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], 2, 0.5, -0.25, 0.05));
        var e = tensor(new float[] { 1, 0, 1, 0 }).view(2, 2).requires_grad_(true);
        var logits = head.Forward(e, tensor(new long[] { 0, 1 }), margins);   // row 0: cos = +1 to class 0; row 1: cos = -1 to class 1
        Assert.False(logits.isnan().any().ToBoolean() || logits.isinf().any().ToBoolean());
        Close(Math.Cos(0.30), logits[0, 0], 1e-4);
        Close(-1 - Math.Sin(Math.PI - 0.55) * 0.55, logits[1, 1], 1e-4);      // theta + m > pi: monotone continuation
        logits.sum().backward();
        Assert.False(e.grad!.isnan().any().ToBoolean() || e.grad!.isinf().any().ToBoolean());
    }

    [Fact]
    public void Label_smoothing_mixes_the_target_with_the_uniform_distribution()
    {
        using var _ = NewDisposeScope();
        var logits = tensor(new float[] { 2.0f, 0.5f, -1.0f, 0.1f, 0.2f, 3.0f }).view(2, 3);
        var labels = tensor(new long[] { 0, 2 });
        double eps = 0.2;
        var logp = nn.functional.log_softmax(logits, 1);
        double nll = -(logp[0, 0].ToDouble() + logp[1, 2].ToDouble()) / 2;
        double uniform = -logp.mean().ToDouble();                             // mean over rows and classes of -log p
        double expected = (1 - eps) * nll + eps * uniform;
        Close(nll, nn.functional.cross_entropy(logits, labels), 1e-5);
        Close(expected, nn.functional.cross_entropy(logits, labels, label_smoothing: eps), 1e-5);
        Assert.True(expected > nll);                                          // confident correct predictions cost more
    }

    [Fact]
    public void Species_head_is_built_trained_and_skipped_on_load_without_it()
    {
        using var tmp = new TempFolder();
        using var _ = NewDisposeScope();
        var spec = WeightImportTests.Spec() with { SpeciesHead = true, SpeciesLossWeight = 0.25 };
        using var model = ModelFactory.Create(spec, numClasses: 6, numSpecies: 3);
        Assert.NotNull(model.SpeciesHead);
        Assert.Equal(0.25, model.SpeciesLossWeight);
        Assert.Equal(new long[] { 3, 32 }, model.state_dict()["species_head.weight"].shape);
        model.train();
        var emb = model.call(randn(2, 3, 32, 32));
        var logits = model.SpeciesLogits(emb, tensor(new long[] { 0, 2 }));
        Assert.Equal(new long[] { 2, 3 }, logits.shape);
        nn.functional.cross_entropy(logits, tensor(new long[] { 0, 2 })).backward();
        Assert.NotNull(model.SpeciesHead!.Weight.grad);
        model.save(tmp["m.bin"]);

        using var evalModel = ModelFactory.Create(spec, numClasses: 6);   // no species count: no species head
        Assert.Null(evalModel.SpeciesHead);
        evalModel.LoadCheckpoint(tmp["m.bin"]);
        Assert.True(Same(evalModel.state_dict()["head.weight"], model.state_dict()["head.weight"]));
        Assert.Throws<InvalidOperationException>(() => evalModel.SpeciesLogits(emb, tensor(new long[] { 0, 1 })));
    }

    [Theory]
    [InlineData("efficientnet_b0", 1280 + 320)]
    [InlineData("resnet18", 512 + 256)]
    public void Concat_last_two_pools_both_stages(string backbone, long pooled)
    {
        using var _ = NewDisposeScope();
        using var model = ModelFactory.Create(WeightImportTests.Spec(backbone) with { ConcatLastTwo = true }, numClasses: 4);
        Assert.Equal(pooled, model.PooledFeatures);
        model.eval();
        using (no_grad())
        {
            var x = randn(2, 3, 64, 64);
            var p = model.ForwardPooled(x);
            Assert.Equal(new long[] { 2, pooled }, p.shape);
            Assert.Equal(new long[] { 2, 32 }, model.call(x).shape);
            // the first block of the concatenation is the ordinary pooled feature
            using var plain = new Gem(3.0);
            var last = ((IFeatureExtractor)model.Backbone).ForwardFeatures(x);
            Assert.True(p.narrow(1, 0, last.shape[1]).allclose(plain.call(last).flatten(1), rtol: 1e-4, atol: 1e-5));
        }
    }

    [Fact]
    public void Subcenter_head_type_and_learnable_gem_come_from_the_spec()
    {
        var spec = WeightImportTests.Spec() with { GemLearnable = true, Head = WeightImportTests.Spec().Head with { Type = HeadType.Subcenter, K = 3 } };
        using var model = ModelFactory.Create(spec, numClasses: 5);
        Assert.Equal(3, model.Head.SubCenters);
        Assert.Equal(new long[] { 15, 32 }, model.Head.Weight.shape);
        Assert.Contains("pool.p", model.state_dict().Keys);
        // An unknown head type cannot reach the factory any more: the schema refuses it and the spec holds an enum.
        Assert.Throws<ExperimentException>(() => ExperimentLoader.Load(HappyWhale.Tests.Experiments.ExperimentFiles.RepoExperimentsDir, "quickstart", ["model.head.type=cosface"]));
    }
}
