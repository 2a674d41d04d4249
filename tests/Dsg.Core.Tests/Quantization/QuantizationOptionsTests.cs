using Dsg.Core.Quantization;
using Dsg.Core.Quantization.Observers;

namespace Dsg.Core.Tests.Quantization;

public sealed class QuantizationOptionsTests
{
    [Theory]
    [InlineData("W8A8", 8, 8)]
    [InlineData("w6a6", 6, 6)]
    [InlineData("W4A8", 4, 8)]
    [InlineData("W4A4", 4, 4)]
    [InlineData("W2A3", 2, 3)]
    public void PrecisionSetsBothWidths(string text, int weight, int activation)
    {
        var o = QuantizationOptions.FromPrecision(text);
        Assert.Equal((weight, activation), (o.WeightBits, o.ActivationBits));
    }

    [Theory]
    [InlineData("W9A8")]
    [InlineData("W1A8")]
    [InlineData("int8")]
    [InlineData("")]
    public void BadPrecisionNamesTheOptionAndTheAllowedValues(string text)
    {
        var e = Assert.Throws<DsgException>(() => QuantizationOptions.FromPrecision(text));
        Assert.Equal(ErrorCodes.BadOption, e.Code);
        Assert.Contains("precision", e.Message);
        Assert.Contains("W4A4", e.Message);
    }

    [Fact]
    public void ValidateRejectsOutOfRangeValues()
    {
        Assert.Contains("weight-bits", Assert.Throws<DsgException>(() => new QuantizationOptions { WeightBits = 9 }.Validate()).Message);
        Assert.Contains("activation-bits", Assert.Throws<DsgException>(() => new QuantizationOptions { ActivationBits = 1 }.Validate()).Message);
        Assert.Contains("percentile", Assert.Throws<DsgException>(() => new QuantizationOptions { Percentile = 20 }.Validate()).Message);
        Assert.Contains("batch-size", Assert.Throws<DsgException>(() => new QuantizationOptions { BatchSize = 0 }.Validate()).Message);
        Assert.Equal(ErrorCodes.BadOption, Assert.Throws<DsgException>(() => QuantizationOptions.ParseObserver("median")).Code);
        Assert.Equal(ErrorCodes.BadOption, Assert.Throws<DsgException>(() => QuantizationOptions.ParseRecipe("zeroq")).Code);
        Assert.Equal(ObserverKind.MinMax, QuantizationOptions.ParseObserver("min-max"));
        Assert.Equal(QuantizationRecipe.Paper, QuantizationOptions.ParseRecipe("PAPER"));
        Assert.Contains("refine-iterations", Assert.Throws<DsgException>(() => new QuantizationOptions { RefineIterations = 0 }.Validate()).Message);
        Assert.Contains("none, adaround, brecq, qat", Assert.Throws<DsgException>(() => QuantizationOptions.ParseRefine("qdrop")).Message);
        Assert.Equal(ErrorCodes.BadOption, Assert.Throws<DsgException>(() => QuantizationOptions.ParseRefine("1")).Code);
        Assert.Equal(Dsg.Core.Quantization.Refinement.RefinementMethod.AdaRound, QuantizationOptions.ParseRefine("AdaRound"));
    }

    [Fact]
    public void RefinementIsOffByDefaultAndItsStepsReachTheAdaRoundSettings()
    {
        var options = new QuantizationOptions();
        Assert.Equal(Dsg.Core.Quantization.Refinement.RefinementMethod.None, options.Refine);
        Assert.Equal(700, (options with { RefineIterations = 700 }).AdaRound.Iterations);
        // Fine-tuning's augmentation is on and its statistics term off by default; both reach the settings and the metadata.
        Assert.True(options.AdaRound.Augment);
        Assert.Equal(0, options.AdaRound.StatisticsWeight);
        Assert.False((options with { RefineAugment = false }).AdaRound.Augment);
        Assert.Equal(0.5, (options with { RefineStatisticsWeight = 0.5 }).AdaRound.StatisticsWeight);
        Assert.Contains("\"refineAugment\":true", options.ToJson());
        foreach (double bad in new[] { -1, double.NaN, double.PositiveInfinity })
        {
            Assert.Contains("refine-statistics-weight", Assert.Throws<DsgException>(() => (options with { RefineStatisticsWeight = bad }).Validate()).Message);
        }

        Assert.Contains("\"refine\":\"none\"", options.ToJson());
        // 8-bit weights are stored on 7 bits by default, so refinement learns on the grid the writer stores.
        Assert.Equal(7, options.WeightGridBits(8));
        Assert.Equal(8, (options with { EightBitWeights = EightBitWeightStorage.Full }).WeightGridBits(8));
        Assert.Equal(4, options.WeightGridBits(4));
    }

    [Fact]
    public void PaperRecipeFillsEveryUnsetChoiceAndEachPartCanBeOverridden()
    {
        var paper = new QuantizationOptions { Recipe = QuantizationRecipe.Paper };
        Assert.Equal(ObserverKind.MinMax, paper.EffectiveObserver);
        Assert.Equal(WeightRangeMethod.MinMax, paper.EffectiveWeightRange);
        Assert.False(paper.EffectiveEightBitFirstLastLayer);
        var mixed = paper with { EightBitFirstLastLayer = true, Observer = ObserverKind.Percentile };
        Assert.True(mixed.EffectiveEightBitFirstLastLayer);
        Assert.Equal(ObserverKind.Percentile, mixed.EffectiveObserver);
        var defaults = new QuantizationOptions();
        Assert.Equal(QuantizationOptions.DefaultObserver, defaults.EffectiveObserver);
        Assert.Equal(WeightRangeMethod.Mse, defaults.EffectiveWeightRange);
        Assert.True(defaults.EffectiveEightBitFirstLastLayer);
        Assert.Contains("\"observer\":\"minmax\"", paper.ToJson());
    }
}
