using System.Globalization;
using Dsg.Core.Generation;
using Dsg.Tool.Configuration;

namespace Dsg.Tool.Tests.Configuration;

public sealed class LossTermSettingsTests
{
    [Theory]
    [InlineData("sci,class", "class,sci")]
    [InlineData("Class , SCI,sci", "class,sci")]
    [InlineData("slack,lse,sci,input-stats,class,priors", "class,input-stats,lse,priors,sci,slack")]
    [InlineData("none", "none")]
    [InlineData("NONE", "none")]
    [InlineData("", "none")]
    public void WithoutIsCaseInsensitiveDeduplicatedAndSorted(string text, string canonical)
    {
        var terms = LossTermSettings.ParseWithout(text);

        Assert.NotNull(terms);
        Assert.Equal(canonical, LossTermSettings.FormatWithout(terms));
    }

    [Theory]
    [InlineData("magic")]
    [InlineData("sci,,class")]
    [InlineData("none,sci")]
    [InlineData("sci;class")]
    public void UnknownTermsAreRejected(string text) => Assert.Null(LossTermSettings.ParseWithout(text));

    [Fact]
    public void EachTermSwitchesOffItsOwnGenerationOption()
    {
        var expected = new Dictionary<string, Func<GenerationOptions, bool>>
        {
            ["slack"] = o => o.UseSlack,
            ["lse"] = o => o.UseLayerwiseEnhancement,
            ["sci"] = o => o.UseCorrelationInhibition,
            ["input-stats"] = o => o.UseInputStatistics,
            ["class"] = o => o.UseCrossEntropy,
            ["priors"] = o => o.UsePriors,
            ["smoothing"] = o => o.SmoothingSigma > 0,
        };
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), LossTermSettings.Terms);
        foreach (var (term, _) in expected)
        {
            var options = LossTermSettings.Apply(GenerationOptions.Default, [term], LossTermSettings.ParseWeights("")!);
            Assert.All(expected, e => Assert.Equal(e.Key != term, e.Value(options)));
        }
    }

    [Fact]
    public void EachWeightNameSetsItsOwnGenerationOptionAndTheRestKeepTheDefaults()
    {
        var expected = new Dictionary<string, Func<GenerationOptions, double>>
        {
            ["bn"] = o => o.BatchNormWeight,
            ["bn-batch"] = o => o.PooledBatchNormWeight,
            ["input-stats"] = o => o.InputStatisticsWeight,
            ["sci"] = o => o.CorrelationWeight,
            ["class"] = o => o.CrossEntropyWeight,
            ["tv"] = o => o.TotalVariationWeight,
            ["l2"] = o => o.L2Weight,
        };
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), LossTermSettings.WeightNames);
        foreach (var (name, _) in expected)
        {
            var options = LossTermSettings.Apply(GenerationOptions.Default, [], LossTermSettings.ParseWeights(name.ToUpperInvariant() + "=123.5")!);
            Assert.All(expected, e => Assert.Equal(e.Key == name ? 123.5 : e.Value(GenerationOptions.Default), e.Value(options)));
        }
    }

    [Fact]
    public void WeightsFormatAsEveryEffectiveValueSoANamedDefaultEqualsLeavingItOut()
    {
        var defaults = GenerationOptions.Default;
        string R(double value) => value.ToString("R", CultureInfo.InvariantCulture);
        Assert.Equal(
            $"bn={R(defaults.BatchNormWeight)},bn-batch={R(defaults.PooledBatchNormWeight)},class={R(defaults.CrossEntropyWeight)},input-stats={R(defaults.InputStatisticsWeight)},"
            + $"l2={R(defaults.L2Weight)},sci={R(defaults.CorrelationWeight)},tv={R(defaults.TotalVariationWeight)}",
            LossTermSettings.FormatWeights(LossTermSettings.ParseWeights("")!));
        Assert.Equal(LossTermSettings.FormatWeights(LossTermSettings.ParseWeights("")!),
            LossTermSettings.FormatWeights(LossTermSettings.ParseWeights("bn=" + R(defaults.BatchNormWeight))!));
        Assert.Equal(LossTermSettings.FormatWeights(LossTermSettings.ParseWeights("class=5, tv=0")!),
            LossTermSettings.FormatWeights(LossTermSettings.ParseWeights("TV=0.0,class=5e0")!));
        Assert.Contains("class=5,", LossTermSettings.FormatWeights(LossTermSettings.ParseWeights("class=5")!));
    }

    [Theory]
    [InlineData("bn")]
    [InlineData("bn=")]
    [InlineData("=2")]
    [InlineData("bn=2=3")]
    [InlineData("bn=1,5")]
    [InlineData("bn=2,")]
    [InlineData("gamma=1")]
    [InlineData("bn=-1")]
    [InlineData("bn=NaN")]
    [InlineData("bn=Infinity")]
    [InlineData("bn=1e7")]
    [InlineData("bn=1,bn=2")]
    public void MalformedPairsUnknownNamesAndOutOfRangeWeightsAreRejected(string text) => Assert.Null(LossTermSettings.ParseWeights(text));
}
