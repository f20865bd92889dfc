using HappyWhale.Tracking;

namespace HappyWhale.Tests.Tracking;

public class FormatTests
{
    // Expected strings are what CPython's repr(float) prints (also checked on 3000 random doubles against python3).
    [Theory]
    [InlineData(0.0, "0.0")]
    [InlineData(-0.0, "-0.0")]
    [InlineData(1.0, "1.0")]
    [InlineData(0.5, "0.5")]
    [InlineData(0.1, "0.1")]
    [InlineData(123.456, "123.456")]
    [InlineData(1e-5, "1e-05")]
    [InlineData(0.0001, "0.0001")]
    [InlineData(1e15, "1000000000000000.0")]
    [InlineData(1e16, "1e+16")]
    [InlineData(1.5e16, "1.5e+16")]
    [InlineData(-2.5e-7, "-2.5e-07")]
    [InlineData(1.7976931348623157e308, "1.7976931348623157e+308")]
    [InlineData(5e-324, "5e-324")]
    [InlineData(0.30000000000000004, "0.30000000000000004")]
    [InlineData(double.NaN, "nan")]
    [InlineData(double.PositiveInfinity, "inf")]
    [InlineData(double.NegativeInfinity, "-inf")]
    public void PythonFloatRepr(double value, string expected) => Assert.Equal(expected, PythonFloat.Repr(value));

    // Expected strings are what PyYAML 6.0's yaml.dump(..., Dumper=SafeDumper) writes, except the last (see PyYaml).
    [Theory]
    [InlineData("Default", "Default")]
    [InlineData("0", "'0'")]
    [InlineData("123", "'123'")]
    [InlineData("1.5", "'1.5'")]
    [InlineData("", "''")]
    [InlineData("yes", "'yes'")]
    [InlineData("null", "'null'")]
    [InlineData("2024-01-31", "'2024-01-31'")]
    [InlineData("a: b", "'a: b'")]
    [InlineData("it's", "it's")]
    [InlineData("#x", "'#x'")]
    [InlineData("file:///tmp/mlruns/1", "file:///tmp/mlruns/1")]
    [InlineData("0123456789abcdef0123456789abcdef", "0123456789abcdef0123456789abcdef")]
    [InlineData("baleine bleue", "baleine bleue")]
    [InlineData("a\nb", "\"a\\nb\"")]
    public void PyYamlStrings(string value, string expected) => Assert.Equal(expected, PyYaml.String(value));

    [Theory]
    [InlineData("a", false)]
    [InlineData("a/b", false)]
    [InlineData("a/../b", true)]
    [InlineData("..a", true)]
    [InlineData("a/..b", false)]
    [InlineData(".", true)]
    [InlineData("a/", true)]
    public void PathNotUnique_MatchesMlflow(string name, bool expected) => Assert.Equal(expected, MlflowNames.PathNotUnique(name));

    [Theory]
    [InlineData("Japanese_(katakana)", "Japanese__katakana_")]
    [InlineData("beluga", "beluga")]
    [InlineData("a/b", "a_b")]
    [InlineData("..", "__")]
    [InlineData("", "_")]
    [InlineData("Ge'ez ok-1.2", "Ge_ez ok-1.2")]
    public void KeyPart_GivesANameMlflowAccepts(string name, string expected)
    {
        var part = MlflowNames.KeyPart(name);
        Assert.Equal(expected, part);
        MlflowNames.ValidateKey("metric", "val_map5_by_species/" + part);
    }
}
