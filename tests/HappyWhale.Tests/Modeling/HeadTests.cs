using HappyWhale.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace HappyWhale.Tests.Modeling;

public class ArcFaceTests
{
    private static ArcMarginHead IdentityHead(double s, double m, bool easy = false)
    {
        var head = new ArcMarginHead(3, 3, s, m, easy);
        using (no_grad()) head.Weight.copy_(eye(3) * 2.0);   // norm is irrelevant: rows are normalised
        return head;
    }

    private static void Close(double expected, Tensor actual, double tol = 1e-5) =>
        Assert.InRange(actual.ToDouble(), expected - tol, expected + tol);

    [Fact]
    public void Margin_is_applied_to_the_target_class_only()
    {
        using var _ = NewDisposeScope();
        using var head = IdentityHead(s: 10, m: 0.5);
        double a = 0.3;
        var e = tensor(new float[] { (float)(5 * Math.Cos(a)), (float)(5 * Math.Sin(a)), 0f }).view(1, 3);
        var logits = head.Forward(e, tensor(new long[] { 0 }));
        Close(10 * Math.Cos(a + 0.5), logits[0, 0]);
        Close(10 * Math.Sin(a), logits[0, 1]);
        Close(0, logits[0, 2]);

        var cos = head.Cosine(e);
        Close(Math.Cos(a), cos[0, 0]);
        Close(Math.Sin(a), cos[0, 1]);

        // Same embedding, target 1: only column 1 changes, to s*cos(theta1 + m).
        var logits1 = head.Forward(e, tensor(new long[] { 1 }));
        Close(10 * Math.Cos(a), logits1[0, 0]);
        Close(10 * Math.Cos(Math.PI / 2 - a + 0.5), logits1[0, 1]);
    }

    [Fact]
    public void Finite_at_cos_plus_and_minus_one_including_gradients()
    {
        using var _ = NewDisposeScope();
        using var head = IdentityHead(s: 10, m: 0.5);
        var e = tensor(new float[] { 1, 0, 0, -1, 0, 0 }).view(2, 3).requires_grad_(true);
        var logits = head.Forward(e, tensor(new long[] { 0, 0 }));
        Assert.False(logits.isnan().any().ToBoolean());
        Close(10 * Math.Cos(0.5), logits[0, 0], 1e-4);
        // theta + m > pi: fallback cos - sin(pi - m) * m
        Close(10 * (-1 - Math.Sin(Math.PI - 0.5) * 0.5), logits[1, 0], 1e-4);
        logits.sum().backward();
        Assert.False(e.grad!.isnan().any().ToBoolean());
        Assert.False(e.grad!.isinf().any().ToBoolean());
        Assert.False(head.Weight.grad!.isnan().any().ToBoolean());
    }

    [Fact]
    public void Easy_margin_keeps_cos_where_target_cos_is_not_positive()
    {
        using var _ = NewDisposeScope();
        using var head = IdentityHead(s: 10, m: 0.5, easy: true);
        double a = 2.0;   // cos(a) < 0
        var e = tensor(new float[] { (float)Math.Cos(0.3), (float)Math.Sin(0.3), 0f,
                                     (float)Math.Cos(a), (float)Math.Sin(a), 0f }).view(2, 3);
        var logits = head.Forward(e, tensor(new long[] { 0, 0 }));
        Close(10 * Math.Cos(0.8), logits[0, 0]);
        Close(10 * Math.Cos(a), logits[1, 0]);

        using var hard = IdentityHead(s: 10, m: 0.5);
        var hardLogits = hard.Forward(e, tensor(new long[] { 0, 0 }));
        Close(10 * Math.Cos(a + 0.5), hardLogits[1, 0]);   // theta + m = 2.5 < pi: the margin applies
    }

    [Fact]
    public void Per_class_margins_override_the_global_margin()
    {
        using var _ = NewDisposeScope();
        using var head = IdentityHead(s: 1, m: 0.5);
        var e = eye(3);
        var margins = tensor(new float[] { 0.1f, 0.2f, 0.3f });
        var logits = head.Forward(e, tensor(new long[] { 0, 1, 2 }), margins);
        Close(Math.Cos(0.1), logits[0, 0], 1e-4);
        Close(Math.Cos(0.2), logits[1, 1], 1e-4);
        Close(Math.Cos(0.3), logits[2, 2], 1e-4);
        Close(0, logits[0, 1]);
    }

    [Fact]
    public void Sub_centers_take_the_best_centre_of_each_class()
    {
        using var _ = NewDisposeScope();
        using var head = new ArcMarginHead(2, 2, s: 1, m: 0.0, subCenters: 2);
        // class 0: centres (1,0) and (0,1); class 1: centres (-1,0) and (0,-1)
        using (no_grad()) head.Weight.copy_(tensor(new float[] { 1, 0, 0, 1, -1, 0, 0, -1 }).view(4, 2));
        Assert.Equal(new long[] { 4, 2 }, head.Weight.shape);
        var cos = head.Cosine(tensor(new float[] { 0, 1 }).view(1, 2));
        Assert.Equal(new long[] { 1, 2 }, cos.shape);
        Close(1, cos[0, 0]);
        Close(0, cos[0, 1]);
    }

    [Fact]
    public void Weight_parameter_is_named_weight()
    {
        using var head = new ArcMarginHead(16, 5);
        var names = head.named_parameters().Select(p => p.name).ToArray();
        Assert.Equal(new[] { "weight" }, names);
        Assert.Equal(new long[] { 5, 16 }, head.Weight.shape);
    }
}

public class GemTests
{
    [Fact]
    public void Gem_with_p_one_is_average_pooling()
    {
        using var _ = NewDisposeScope();
        using var gem = new Gem(1.0);
        var x = rand(2, 3, 4, 4) + 0.1;
        var expected = nn.functional.adaptive_avg_pool2d(x, 1);
        var actual = gem.call(x);
        Assert.Equal(new long[] { 2, 3, 1, 1 }, actual.shape);
        Assert.True(actual.allclose(expected, rtol: 1e-5, atol: 1e-6));
    }

    [Fact]
    public void Gem_approaches_max_pooling_for_large_p()
    {
        using var _ = NewDisposeScope();
        var x = rand(new long[] { 2, 3, 4, 4 }, dtype: ScalarType.Float64) * 0.5 + 0.5;
        var max = nn.functional.adaptive_max_pool2d(x, new long[] { 1, 1 });
        var avg = nn.functional.adaptive_avg_pool2d(x, 1);
        using var g3 = new Gem(3.0);
        using var g100 = new Gem(100.0);
        var y3 = g3.call(x);
        var y100 = g100.call(x);
        Assert.True((y3 >= avg - 1e-12).all().ToBoolean() && (y3 <= max + 1e-12).all().ToBoolean());
        Assert.True(((max - y100).abs() < (max - y3).abs() + 1e-12).all().ToBoolean());
        Assert.True(((max - y100).abs() / max < 0.05).all().ToBoolean());
    }

    [Fact]
    public void Learnable_p_is_a_parameter_named_p_and_gets_gradients()
    {
        using var _ = NewDisposeScope();
        using var gem = new Gem(3.0, learnable: true);
        var named = gem.named_parameters().ToArray();
        Assert.Single(named);
        Assert.Equal("p", named[0].name);
        Assert.Equal(3.0, gem.P, 6);
        var x = rand(2, 3, 4, 4) + 0.1;
        using var fixedGem = new Gem(3.0);
        Assert.True(gem.call(x).allclose(fixedGem.call(x), rtol: 1e-5, atol: 1e-6));
        gem.call(x).sum().backward();
        Assert.NotNull(named[0].parameter.grad);
        Assert.Empty(fixedGem.parameters());
    }
}
