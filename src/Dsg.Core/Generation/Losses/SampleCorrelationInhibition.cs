using static TorchSharp.torch;

namespace Dsg.Core.Generation.Losses;

/// <summary>
/// Sample Correlation Inhibition on the input pixels. Z is the batch flattened to N×D with unit rows and S = Z Zᵀ.
/// <list type="bullet">
/// <item><see cref="CorrelationForm.OffDiagonalCosine"/>: the mean of S[i,j]² over i ≠ j.</item>
/// <item><see cref="CorrelationForm.Gdpp"/>: 1e-4·MSE(λ_syn, λ_gauss) + |Σ_j λ̂_gauss,j · (−⟨v_syn,j, v_gauss,j⟩)| against the
/// eigen-decomposition of the same Gram matrix of a fresh N(0, 1) batch, λ̂ min-max normalised.</item>
/// </list>
/// </summary>
internal sealed class SampleCorrelationInhibition : LossTerm
{
    private readonly CorrelationForm _form;

    public SampleCorrelationInhibition(double weight, CorrelationForm form)
        : base("sci", weight)
    {
        _form = form;
    }

    public override Tensor Compute(LossContext context) => _form switch
    {
        CorrelationForm.Gdpp => Gdpp(context.Images, context.Generator),
        _ => OffDiagonalCosine(context.Images),
    };

    /// <summary>The cosine Gram matrix S = Z Zᵀ of a batch flattened to rows.</summary>
    public static Tensor CosineGram(Tensor batch)
    {
        var z = nn.functional.normalize(batch.reshape(batch.shape[0], -1), p: 2, dim: 1, eps: 1e-12);
        return z.matmul(z.t());
    }

    /// <summary>Mean squared off-diagonal cosine similarity; 0 for a batch of one.</summary>
    public static Tensor OffDiagonalCosine(Tensor batch)
    {
        long n = batch.shape[0];
        var gram = CosineGram(batch);
        if (n < 2)
        {
            return gram.Times(0L).sum();
        }

        var offDiagonal = gram - diag_embed(gram.diagonal());
        return offDiagonal.Squared().sum().DividedBy(n * (n - 1));
    }

    /// <summary>The GDPP form against a fresh N(0, 1) batch drawn from <paramref name="generator"/>.</summary>
    public static Tensor Gdpp(Tensor batch, Generator generator)
    {
        var reference = randn(batch.shape, dtype: batch.dtype, device: batch.device, generator: generator);
        return Gdpp(batch, reference);
    }

    /// <summary>The GDPP form against a given reference batch (no gradient flows into it).</summary>
    public static Tensor Gdpp(Tensor batch, Tensor reference)
    {
        var (syntheticValues, syntheticVectors) = linalg.eigh(CosineGram(batch).to(float64));
        Tensor referenceValues;
        Tensor referenceVectors;
        using (no_grad())
        {
            (referenceValues, referenceVectors) = linalg.eigh(CosineGram(reference.detach()).to(float64));
        }

        var magnitude = nn.functional.mse_loss(syntheticValues, referenceValues).Times(1e-4);
        var range = (referenceValues.max() - referenceValues.min()).AtLeast(1e-12);
        var normalised = (referenceValues - referenceValues.min()) / range;
        var structure = -(syntheticVectors * referenceVectors).sum([0]);
        return magnitude.Plus((normalised * structure).sum().abs()).to(batch.dtype);
    }
}
