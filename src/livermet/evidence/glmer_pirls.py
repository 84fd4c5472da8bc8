"""lme4's glmer deviance functions for the binomial-normal model, evaluation for evaluation.

metafor's ``rma.glmm(measure="PLO", method="ML")`` fits
``glmer(cbind(xi, ni - xi) ~ 0 + X + (1 | study), family = binomial, nAGQ = nAGQ)``. glmer's
optimisers (bobyqa over ``theta``, then Nelder-Mead over ``(theta, beta)``) stop short of the
optimum, so the point they return depends on the exact deviance VALUES lme4 computes, including
the imprecision of its penalised iteratively reweighted least squares (PIRLS). This module
reproduces lme4 1.1-31 (src/external.cpp, predModule.cpp, respModule.cpp, glmFamily.cpp;
R/modular.R, R/lmer.R) for this model, where every series has one observation and one scalar
random intercept (``Z = I``, ``Lambda = theta I``), so the sparse Cholesky factor ``L`` of
``Lambda' Z' W Z Lambda + I`` is diagonal, ``L_ii = sqrt(1 + (theta sqrt(w_i))^2)``.

What lme4 does and this module repeats:

* PIRLS (``pwrssUpdate``) iterates until the relative change of the penalised deviance
  ``resDev + |u|^2`` is below ``tolPwrss = 1e-7`` (``glmerControl()``), halving steps (at most 20)
  when it increases. Each iteration factorises ``L`` (and, for stage 1, the fixed-effects factor
  ``RX`` from the Schur complement) with the working weights of the CURRENT mean, then updates the
  mean; so ``log det L^2`` and the quadrature scale ``1 / L_ii`` belong to the penultimate iterate.
* State carries over between evaluations: ``u`` (``delu``), ``beta`` (``delb``) and the factors
  stay; the mean is reset to ``lp0`` at the start of every evaluation. ``lp0`` is the linear
  predictor after the initial PIRLS run from ``mustart`` (``mkGlmerDevfun``) and is recomputed
  when stage 2 starts (``updateGlmerDevfun``).
* Stage 1 (``nAGQ = 0``): ``f(theta)``, PIRLS over ``u`` and ``beta`` jointly, value
  ``ldL2 + |u|^2 + aic`` (``glmResp::Laplace``), with binomial ``aic`` as lme4's ``glmFamily``
  (R's ``dbinom`` on the rounded counts, including the binomial coefficient).
* Stage 2 (``nAGQ >= 1``): ``f(theta, beta)``, PIRLS over ``u`` only with offset ``X beta``;
  ``nAGQ = 1`` is the same Laplace value, ``nAGQ > 1`` is ``glmerAGQ`` with lme4's ``GHrule``
  nodes (a stored table in lme4: fastGHQuad's rules rescaled to the standard normal density,
  not exactly symmetric, the middle node of odd rules not exactly 0; copied below to the bit).
* Sums run left to right as in lme4 (Eigen is compiled there with ``EIGEN_DONT_VECTORIZE``),
  ``exp``/``log`` come from the C library (Python's ``math``, as R), and every operation keeps
  lme4's order where the rounding differs.

References
----------
Bates, D., Maechler, M., Bolker, B. & Walker, S. (2015). Fitting linear mixed-effects models
using lme4. *J. Stat. Softw.* 67(1), 1-48 (PIRLS, section 5.4 of the package vignette "lmer").
lme4 1.1-31 source, commit 1de5c0af (2022-10-31). Loader, C. (2000). Fast and accurate
computation of binomial probabilities (R's ``dbinom``; ``stirlerr``, ``bd0``).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from ..errors import InputError

FloatArray = npt.NDArray[np.float64]

TOL_PWRSS = 1e-7  # glmerControl()$tolPwrss
MAXIT = 100  # mkGlmerDevfun(maxit = 100L)
MAX_STEP_HALVINGS = 20  # pwrssUpdate: maxstephalfit
THETA_START = 1.0  # mkReTrms: theta starts at 1 for a scalar random intercept
_EPS = float(np.finfo(float).eps)  # glmFamily.cpp bounds mu, mu.eta and the variance by it
_SQRT_2PI = math.sqrt(2.0 * math.pi)  # external.cpp: std::sqrt(2. * M_PI)
_LN_SQRT_2PI = 0.918938533204672741780329736406  # Rmath M_LN_SQRT_2PI
_LN_2PI = 1.837877066409345483560659472811  # Rmath M_LN_2PI
_DBL_MIN = 2.2250738585072014e-308

# R nmath/stirlerr.c (R 4.2): log(n!) - log(sqrt(2 pi n) (n/e)^n) at n = 0, 1, ..., 15
# (the integer entries of R's table ``sferr_halves``; n = 0 is R's placeholder).
_STIRLERR_INT = (
    0.0,
    0.0810614667953272582196702,
    0.0413406959554092940938221,
    0.02767792568499833914878929,
    0.02079067210376509311152277,
    0.01664469118982119216319487,
    0.01387612882307074799874573,
    0.01189670994589177009505572,
    0.010411265261972096497478567,
    0.009255462182712732917728637,
    0.008330563433362871256469318,
    0.007573675487951840794972024,
    0.006942840107209529865664152,
    0.006408994188004207068439631,
    0.005951370112758847735624416,
    0.005554733551962801371038690,
)
_S0 = 0.083333333333333333333  # 1/12
_S1 = 0.00277777777777777777778  # 1/360
_S2 = 0.00079365079365079365079365  # 1/1260
_S3 = 0.000595238095238095238095238  # 1/1680
_S4 = 0.0008417508417508417508417508  # 1/1188

# lme4 1.1-31 GHrule(k), k = 1..25: nodes z and weights w (w sums to 1) of the k-point
# Gauss-Hermite rule for the standard normal density, exactly as lme4's sysdata.rda
# ``fgq_rules`` (fastGHQuad rules rescaled); checked bit for bit against R (pirls-traces.json).
# fmt: off
_GH_RULES: dict[int, tuple[tuple[float, ...], tuple[float, ...]]] = {
    1: (
        (
            0.0,
        ),
        (
            1.0,
        ),
    ),
    2: (
        (
            -1.0000000000000002, 1.0000000000000002,
        ),
        (
            0.5, 0.5,
        ),
    ),
    3: (
        (
            -1.7320508075688772, -1.345841086322327e-16, 1.7320508075688776,
        ),
        (
            0.16666666666666669, 0.6666666666666665, 0.16666666666666674,
        ),
    ),
    4: (
        (
            -2.3344142183389778, -0.7419637843027261, 0.7419637843027261, 2.3344142183389773,
        ),
        (
            0.04587585476806851, 0.45412414523193145, 0.4541241452319316, 0.045875854768068505,
        ),
    ),
    5: (
        (
            -2.8569700138728056, -1.3556261799742662, 3.865098614978412e-17, 1.355626179974266,
            2.8569700138728056,
        ),
        (
            0.011257411327720701, 0.22207592200561257, 0.5333333333333333, 0.22207592200561263,
            0.01125741132772069,
        ),
    ),
    6: (
        (
            -3.3242574335521207, -1.8891758777537109, -0.6167065901925941, 0.6167065901925946,
            1.8891758777537109, 3.32425743355212,
        ),
        (
            0.002555784402056251, 0.08861574604191454, 0.40882846955602903, 0.4088284695560295,
            0.08861574604191448, 0.0025557844020562435,
        ),
    ),
    7: (
        (
            -3.750439717725744, -2.3667594107345415, -1.1544053947399682, 1.6953088219724342e-17,
            1.1544053947399677, 2.3667594107345415, 3.750439717725744,
        ),
        (
            0.0005482688559722172, 0.030757123967586515, 0.24012317860501278, 0.45714285714285713,
            0.24012317860501267, 0.030757123967586477, 0.0005482688559722179,
        ),
    ),
    8: (
        (
            -4.1445471861258945, -2.802485861287542, -1.6365190424351082, -0.5390798113513753,
            0.5390798113513754, 1.6365190424351086, 2.802485861287542, 4.1445471861258945,
        ),
        (
            0.00011261453837536805, 0.009635220120788268, 0.11723990766175905, 0.37301225767907736,
            0.37301225767907725, 0.11723990766175905, 0.009635220120788282, 0.0001126145383753678,
        ),
    ),
    9: (
        (
            -4.5127458633997835, -3.2054290028564703, -2.07684797867783, -1.0232556637891328,
            5.852181398214407e-17, 1.0232556637891328, 2.0768479786778307, 3.205429002856469,
            4.512745863399781,
        ),
        (
            2.2345844007746552e-05, 0.002789141321231772, 0.04991640676521786, 0.24409750289493942,
            0.4063492063492062, 0.2440975028949396, 0.04991640676521795, 0.0027891413212317727,
            2.2345844007746597e-05,
        ),
    ),
    10: (
        (
            -4.859462828332314, -3.581823483551928, -2.4843258416389555, -1.4659890943911582,
            -0.4849357075154976, 0.4849357075154982, 1.4659890943911584, 2.4843258416389555,
            3.581823483551928, 4.859462828332312,
        ),
        (
            4.31065263071828e-06, 0.0007580709343122215, 0.01911158050077028, 0.1354837029802677,
            0.34464233493201896, 0.34464233493201896, 0.1354837029802678, 0.019111580500770334,
            0.0007580709343122176, 4.310652630718293e-06,
        ),
    ),
    11: (
        (
            -5.1880012243748705, -3.9361666071299775, -2.8651231606436456, -1.876035020154846,
            -0.9288689973810641, -2.3449960259184524e-16, 0.9288689973810642, 1.8760350201548466,
            2.8651231606436456, 3.9361666071299766, 5.188001224374871,
        ),
        (
            8.121849790214919e-07, 0.00019567193027122303, 0.006720285235537279,
            0.06613874607105788, 0.2422402998739699, 0.3694083694083694, 0.24224029987396992,
            0.0661387460710578, 0.006720285235537276, 0.0001956719302712238, 8.121849790214904e-07,
        ),
    ),
    12: (
        (
            -5.500901704467747, -4.271825847932282, -3.223709828770097, -2.259464451000799,
            -1.3403751971516167, -0.444403001944139, 0.4444030019441386, 1.3403751971516171,
            2.259464451000799, 3.2237098287700983, 4.2718258479322815, 5.50090170446775,
        ),
        (
            1.499927167637169e-07, 4.837184922590617e-05, 0.0022033806875332005, 0.0291166879123642,
            0.14696704804532992, 0.3216643615128302, 0.32166436151282984, 0.14696704804533,
            0.02911668791236414, 0.0022033806875331975, 4.83718492259064e-05,
            1.4999271676371618e-07,
        ),
    ),
    13: (
        (
            -5.800167252386501, -4.591398448936524, -3.5634443802816334, -2.6206899734322158,
            -1.7254183795882387, -0.85667949351945, -2.6106013128193597e-16, 0.85667949351945,
            1.7254183795882394, 2.6206899734322144, 3.5634443802816334, 4.5913984489365225,
            5.800167252386501,
        ),
        (
            2.7226276428059012e-08, 1.1526596527333837e-05, 0.0006812363504429283,
            0.011770560505996522, 0.07916895586045003, 0.23787152296413627, 0.340992340992341,
            0.23787152296413613, 0.07916895586045006, 0.011770560505996572, 0.0006812363504429275,
            1.1526596527333897e-05, 2.7226276428059026e-08,
        ),
    ),
    14: (
        (
            -6.087409546901293, -4.896936397345566, -3.8869245750597696, -2.9630365798386675,
            -2.088344745701944, -1.2426889554854639, -0.41259045795460164, 0.41259045795460214,
            1.2426889554854637, 2.0883447457019435, 2.963036579838668, 3.8869245750597696,
            4.896936397345565, 6.087409546901291,
        ),
        (
            4.868161257748383e-09, 2.660991344067626e-06, 0.00020033955376074414,
            0.004428919106947408, 0.03865010882425347, 0.15408333984251374, 0.3026346268130195,
            0.30263462681301934, 0.1540833398425136, 0.038650108824253404, 0.0044289191069474,
            0.00020033955376074397, 2.6609913440676288e-06, 4.8681612577483665e-09,
        ),
    ),
    15: (
        (
            -6.36394788882984, -5.190093591304785, -4.196207711269017, -3.289082424398767,
            -2.4324368270097576, -1.6067100690287301, -0.7991290683245482, 2.1233946747252667e-16,
            0.7991290683245481, 1.6067100690287301, 2.4324368270097585, 3.2890824243987655,
            4.196207711269018, 5.190093591304782, 6.3639478888298395,
        ),
        (
            8.589649899633317e-10, 5.975419597920607e-07, 5.6421464051889804e-05,
            0.0015673575035499527, 0.017365774492137585, 0.0894177953998444, 0.23246229360973225,
            0.3182595182595182, 0.23246229360973225, 0.0894177953998445, 0.017365774492137564,
            0.0015673575035499527, 5.642146405188986e-05, 5.975419597920594e-07,
            8.589649899633308e-10,
        ),
    ),
    16: (
        (
            -6.6308781983931295, -5.4722257059493415, -4.492955302520011, -3.6008736241715487,
            -2.7602450476307014, -1.9519803457163334, -1.1638291005549648, -0.3867606045005576,
            0.38676060450055705, 1.1638291005549646, 1.9519803457163327, 2.760245047630702,
            3.6008736241715478, 4.492955302520012, 5.4722257059493415, 6.630878198393127,
        ),
        (
            1.4978147231618407e-10, 1.3094732162868213e-07, 1.5300032162487303e-05,
            0.0005259849265739078, 0.007266937601184737, 0.04728475235401401, 0.15833837275094956,
            0.28656852123801196, 0.28656852123801235, 0.1583383727509497, 0.047284752354014074,
            0.007266937601184723, 0.0005259849265739107, 1.5300032162487276e-05,
            1.3094732162868256e-07, 1.4978147231618498e-10,
        ),
    ),
    17: (
        (
            -6.889122439895335, -5.744460078659404, -4.778531589629984, -3.900065717198011,
            -3.0737971753281945, -2.2810194402529893, -1.5098833077967413, -0.7518426007038963,
            -7.761422086311586e-17, 0.751842600703896, 1.5098833077967413, 2.2810194402529897,
            3.073797175328193, 3.900065717198011, 4.778531589629984, 5.744460078659407,
            6.8891224398953295,
        ),
        (
            2.584314919374896e-11, 2.8080161179305866e-08, 4.012679447979862e-06,
            0.00016849143155133863, 0.002858946062284625, 0.023086657025710985, 0.09740637116272108,
            0.22670630846897688, 0.29953837012660545, 0.22670630846897696, 0.0974063711627211,
            0.023086657025710968, 0.0028589460622846165, 0.00016849143155133853,
            4.012679447979862e-06, 2.8080161179305724e-08, 2.584314919374904e-11,
        ),
    ),
    18: (
        (
            -7.139464849146478, -6.0077459113595975, -5.054072685442739, -4.188020231629403,
            -3.374736535778092, -2.59583368891124, -1.8397799215086457, -1.0983955180915013,
            -0.36524575550769756, 0.36524575550769756, 1.0983955180915017, 1.8397799215086463,
            2.59583368891124, 3.3747365357780903, 4.188020231629403, 5.054072685442739,
            6.007745911359596, 7.139464849146482,
        ),
        (
            4.4165887693587255e-12, 5.905488478836582e-09, 1.0215523976369826e-06,
            5.17989614411624e-05, 0.0010654847962916483, 0.010516517751941333, 0.05489663248022263,
            0.16068530389351263, 0.2727832346542879, 0.2727832346542879, 0.16068530389351265,
            0.05489663248022261, 0.010516517751941337, 0.0010654847962916563,
            5.1798961441162165e-05, 1.0215523976369818e-06, 5.905488478836593e-09,
            4.416588769358678e-12,
        ),
    ),
    19: (
        (
            -7.382579024030437, -6.262891156513253, -5.3205363773360395, -4.46587262683103,
            -3.6644165474506383, -2.8980512765157536, -2.1555027613169355, -1.428876676078373,
            -0.7120850440423803, -5.960966392015302e-17, 0.7120850440423803, 1.428876676078373,
            2.155502761316935, 2.8980512765157544, 3.6644165474506365, 4.465872626831031,
            5.3205363773360395, 6.2628911565132555, 7.382579024030434,
        ),
        (
            7.482830054057087e-13, 1.2203708484474582e-09, 2.5322200320928755e-07,
            1.5351145954666683e-05, 0.00037850210941426895, 0.004507235420342052,
            0.028666691030118454, 0.10360365727614423, 0.2209417121991436, 0.2837731927515209,
            0.2209417121991435, 0.10360365727614416, 0.02866669103011853, 0.0045072354203420425,
            0.0003785021094142721, 1.535114595466671e-05, 2.532220032092871e-07,
            1.220370848447461e-09, 7.482830054057153e-13,
        ),
    ),
    20: (
        (
            -7.61904854167976, -6.510590157013658, -5.5787388058932015, -4.734581334046056,
            -3.9439673506573163, -3.189014816553389, -2.4586636111723674, -1.7452473208141273,
            -1.0429453488027511, -0.34696415708135586, 0.346964157081356, 1.0429453488027514,
            1.745247320814127, 2.4586636111723683, 3.1890148165533905, 3.9439673506573163,
            4.734581334046058, 5.578738805893201, 6.510590157013658, 7.61904854167976,
        ),
        (
            1.2578006724379166e-13, 2.482062362315169e-10, 6.127490259982968e-08,
            4.4021210902308485e-06, 0.00012882627996192895, 0.0018301031310804883,
            0.013997837447101003, 0.06150637206397694, 0.16173933398399998, 0.2607930634495549,
            0.260793063449555, 0.16173933398399976, 0.061506372063976966, 0.013997837447100984,
            0.0018301031310804879, 0.00012882627996192982, 4.4021210902308485e-06,
            6.127490259982941e-08, 2.482062362315154e-10, 1.2578006724379206e-13,
        ),
    ),
    21: (
        (
            -7.849382895113824, -6.75144471871746, -5.829382007304472, -4.994963944782026,
            -4.214343981688422, -3.469846690475375, -2.750592981052373, -2.049102468257163,
            -1.3597658232112304, -0.6780456924406442, -3.048221602091253e-17, 0.6780456924406438,
            1.3597658232112304, 2.049102468257163, 2.7505929810523724, 3.4698466904753764,
            4.2143439816884225, 4.994963944782026, 5.82938200730447, 6.751444718717461,
            7.8493828951138225,
        ),
        (
            2.098991219565677e-14, 4.9753686041217535e-11, 1.450661284493082e-08,
            1.225354836148248e-06, 4.2192347425516726e-05, 0.0007080477954815375,
            0.006439697051408775, 0.03395272978654287, 0.10839228562641945, 0.2153337156950596,
            0.27026018357287723, 0.2153337156950596, 0.1083922856264194, 0.03395272978654288,
            0.006439697051408784, 0.0007080477954815358, 4.2192347425516584e-05,
            1.2253548361482577e-06, 1.4506612844930955e-08, 4.975368604121764e-11,
            2.098991219565677e-14,
        ),
    ),
    22: (
        (
            -8.07402998402171, -6.985980424018809, -6.073074951122898, -5.247724433714425,
            -4.4763619773108685, -3.7414963502665177, -3.0324042278316754, -2.341759996287708,
            -1.6641248391179069, -0.9951624222712155, -0.3311793157152738, 0.331179315715274,
            0.9951624222712154, 1.6641248391179062, 2.3417599962877085, 3.0324042278316754,
            3.7414963502665164, 4.4763619773108685, 5.247724433714427, 6.073074951122898,
            6.985980424018811, 8.074029984021712,
        ),
        (
            3.479460647877116e-15, 9.841378982346153e-12, 3.3665141594582055e-09,
            3.3198537498140387e-07, 1.3345977126809517e-05, 0.000262283303255964,
            0.0028087610475772146, 0.017569072880805763, 0.06719631142889, 0.16190629341367532,
            0.250243596586935, 0.25024359658693496, 0.16190629341367516, 0.06719631142889004,
            0.017569072880805784, 0.0028087610475772116, 0.0002622833032559647,
            1.3345977126809509e-05, 3.3198537498140165e-07, 3.3665141594582138e-09,
            9.841378982346112e-12, 3.479460647877113e-15,
        ),
    ),
    23: (
        (
            -8.293386027417352, -7.214659435051858, -6.310349854448398, -5.493473986471795,
            -4.730724197451475, -4.004775321733304, -3.3050400217529643, -2.6243236340591816,
            -1.9573275529334244, -1.2998764683039792, -0.6484711535344959, 1.304923411799692e-16,
            0.648471153534496, 1.2998764683039798, 1.9573275529334238, 2.6243236340591807,
            3.305040021752963, 4.0047753217333035, 4.730724197451473, 5.493473986471793,
            6.3103498544484, 7.2146594350518605, 8.293386027417355,
        ),
        (
            5.732383167802072e-16, 1.9229353115678167e-12, 7.670888862399917e-10,
            8.775062483861907e-08, 4.089977244992149e-06, 9.340818609031313e-05,
            0.0011676286374978505, 0.008579678391465647, 0.03886718370348117, 0.1120733826026208,
            0.20995966957754258, 0.258509740808839, 0.20995966957754222, 0.11207338260262095,
            0.03886718370348123, 0.008579678391465641, 0.0011676286374978577, 9.340818609031274e-05,
            4.0899772449921295e-06, 8.775062483861978e-08, 7.670888862399911e-10,
            1.922935311567791e-12, 5.732383167802022e-16,
        ),
    ),
    24: (
        (
            -8.507803519195264, -7.43789066602166, -6.5416750050986385, -5.732747175251201,
            -4.978041374639119, -4.260383605019905, -3.5693067640735596, -2.8977286432233145,
            -2.2404678516917524, -1.59348042981642, -0.9534219229321094, -0.31737009662945254,
            0.317370096629452, 0.953421922932109, 1.5934804298164196, 2.2404678516917533,
            2.8977286432233145, 3.5693067640735614, 4.260383605019907, 4.978041374639121,
            5.732747175251202, 6.541675005098634, 7.4378906660216595, 8.507803519195262,
        ),
        (
            9.390193689041899e-17, 3.714974152762439e-13, 1.718664927964863e-10,
            2.2674616734806402e-08, 1.2176597454425876e-06, 3.2095005652745995e-05,
            0.00046471871877939644, 0.0039766089291813226, 0.021126344408967577,
            0.07206936401717833, 0.16145951286700005, 0.2408701155466402, 0.24087011554664042,
            0.16145951286699986, 0.07206936401717849, 0.02112634440896757, 0.003976608929181321,
            0.00046471871877939514, 3.2095005652746036e-05, 1.2176597454425885e-06,
            2.2674616734806587e-08, 1.7186649279648768e-10, 3.7149741527624084e-13,
            9.390193689041972e-17,
        ),
    ),
    25: (
        (
            -8.717597678399589, -7.656037955393074, -6.7674649638097195, -5.966014690606701,
            -5.2188480936442785, -4.508929922967285, -3.8259005699724904, -3.162775679388194,
            -2.514473303952206, -1.8770583699478394, -1.2473119756167896, -0.6224622791860762,
            -1.9470575352556083e-16, 0.622462279186076, 1.2473119756167892, 1.8770583699478391,
            2.514473303952206, 3.162775679388191, 3.8259005699724913, 4.508929922967285,
            5.218848093644279, 5.966014690606701, 6.767464963809718, 7.6560379553930735,
            8.717597678399589,
        ),
        (
            1.530038997998701e-17, 7.102103037003929e-14, 3.791150000477165e-11,
            5.738023868899353e-09, 3.530152560245507e-07, 1.0672194905202552e-05,
            0.00017776690692652695, 0.0017578504052637917, 0.010856755991462293,
            0.04337997016764497, 0.11488092430395155, 0.20485102565034055, 0.24816935117648514,
            0.20485102565034055, 0.11488092430395164, 0.04337997016764507, 0.010856755991462316,
            0.0017578504052637967, 0.00017776690692652557, 1.0672194905202521e-05,
            3.530152560245508e-07, 5.738023868899367e-09, 3.791150000477165e-11,
            7.102103037003988e-14, 1.5300389979986945e-17,
        ),
    ),
}
# fmt: on
MAX_NAGQ = 25  # mkGlmerDevfun: 0 <= nAGQ <= 25


def gh_rule(nagq: int) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Return lme4's ``GHrule(nagq)``: nodes, weights, ``dnorm(z, log = TRUE)`` (nagq 1-25)."""
    if nagq not in _GH_RULES:
        raise InputError(f"nAGQ must be an integer from 1 to {MAX_NAGQ}, got {nagq}", "nAGQ")
    z, w = _GH_RULES[nagq]
    zz = np.array(z)
    # R dnorm4(x, 0, 1, log = TRUE): -(M_LN_SQRT_2PI + 0.5 * x * x + log(sigma)), x = |x|
    ldnorm = np.array([-(_LN_SQRT_2PI + 0.5 * abs(v) * abs(v) + 0.0) for v in z])
    return zz, np.array(w), ldnorm


def _ieee_ratio(num: float, den: float) -> float:
    """``num / den`` with C's IEEE rules: ``x / 0`` is ±inf and ``0 / 0`` NaN (never converged)."""
    if den != 0.0:
        return num / den
    return math.nan if num == 0.0 or math.isnan(num) else math.copysign(math.inf, num)


def _seq_sum(values: FloatArray) -> float:
    """Left-to-right sum starting from the first element (Eigen's unvectorised ``sum()``)."""
    return float(np.cumsum(values)[-1]) if values.size else 0.0


def _exp1(v: float) -> float:
    """C's ``exp``: ``inf`` on overflow (``math.exp`` raises), as lme4's ``plogis`` needs."""
    try:
        return math.exp(v)
    except OverflowError:
        return math.inf


def _log1(v: float) -> float:
    """C's ``log``: ``-inf`` at 0 and NaN below (``math.log`` raises)."""
    if v > 0.0:
        return math.log(v)
    return -math.inf if v == 0.0 else math.nan


def _exp(values: FloatArray) -> FloatArray:
    return np.array([_exp1(v) for v in values.tolist()])


def _log(values: FloatArray) -> FloatArray:
    return np.array([_log1(v) for v in values.tolist()])


def _logit_inv(eta: FloatArray) -> FloatArray:
    """Inverse logit as glmFamily: R's ``plogis`` 1 / (1 + exp(-eta)) bounded to [eps, 1-eps]."""
    mu = 1.0 / (1.0 + _exp(-eta))
    out: FloatArray = np.maximum(_EPS, np.minimum(1.0 - _EPS, mu))
    return out


def _logit_mu_eta(eta: FloatArray) -> FloatArray:
    """Return d mu / d eta as glmFamily: R's ``dlogis`` e / ((1 f) f), e = exp(-|eta|), f = 1+e."""
    e = _exp(-np.abs(eta))
    f = 1.0 + e
    out: FloatArray = np.maximum(_EPS, e / (1.0 * f * f))
    return out


def _y_log_y(y: FloatArray, mu: FloatArray) -> FloatArray:
    v = y / mu
    logs = np.array([math.log(t) if t != 0.0 else 0.0 for t in v.tolist()])
    out: FloatArray = y * logs
    return out


def _stirlerr(n: float) -> float:
    """R 4.2 ``stirlerr`` for integer ``n``: stored values up to 15, series beyond."""
    if n <= 15.0:
        return _STIRLERR_INT[int(n)]
    nn = n * n
    if n > 500:
        return (_S0 - _S1 / nn) / n
    if n > 80:
        return (_S0 - (_S1 - _S2 / nn) / nn) / n
    if n > 35:
        return (_S0 - (_S1 - (_S2 - _S3 / nn) / nn) / nn) / n
    return (_S0 - (_S1 - (_S2 - (_S3 - _S4 / nn) / nn) / nn) / nn) / n


def _bd0(x: float, np_: float) -> float:
    """R 4.2 ``bd0(x, np) = x log(x / np) + np - x``, by its series when x is near np."""
    if abs(x - np_) < 0.1 * (x + np_):
        v = (x - np_) / (x + np_)
        s = (x - np_) * v
        if abs(s) < _DBL_MIN:
            return s
        ej = 2 * x * v
        v *= v
        for j in range(1, 1000):
            ej *= v
            s1 = s + ej / ((j << 1) + 1)
            if s1 == s:
                return s1
            s = s1
    return x * math.log(x / np_) + np_ - x


def log_dbinom(x: float, n: float, p: float) -> float:
    """R 4.2 ``dbinom(x, n, p, log = TRUE)`` (Loader's saddle-point algorithm, ``dbinom_raw``).

    ``x`` and ``n`` are integer-valued (0 <= x <= n); ``0 <= p <= 1``.
    """
    q = 1.0 - p
    if p == 0:
        return 0.0 if x == 0 else -math.inf
    if q == 0:
        return 0.0 if x == n else -math.inf
    if x == 0:
        if n == 0:
            return 0.0
        return -_bd0(n, n * q) - n * p if p < 0.1 else n * math.log(q)
    if x == n:
        return -_bd0(n, n * p) - n * q if q < 0.1 else n * math.log(p)
    if x < 0 or x > n:
        return -math.inf
    lc = _stirlerr(n) - _stirlerr(x) - _stirlerr(n - x) - _bd0(x, n * p) - _bd0(n - x, n * q)
    lf = _LN_2PI + math.log(x) + math.log1p(-x / n)
    return lc - 0.5 * lf


def _lower_solve(chol: FloatArray, rhs: FloatArray) -> FloatArray:
    """Forward substitution with the lower factor, column by column (Eigen's vector solve)."""
    x = rhs.copy()
    for i in range(x.size):
        x[i] = x[i] / chol[i, i]
        for k in range(i + 1, x.size):
            x[k] = x[k] - x[i] * chol[k, i]
    return x


def _upper_solve(chol: FloatArray, rhs: FloatArray) -> FloatArray:
    """Back substitution with ``chol'`` (row-major upper), as Eigen's ``matrixU().solve``."""
    x = rhs.copy()
    p = x.size
    for i in range(p - 1, -1, -1):
        if i < p - 1:
            x[i] = x[i] - _seq_sum(chol[i + 1 :, i] * x[i + 1 :])
        x[i] = x[i] / chol[i, i]
    return x


def _cholesky(a: FloatArray) -> FloatArray:
    """Eigen's unblocked ``LLT`` (lower factor) of a small symmetric positive-definite matrix."""
    p = a.shape[0]
    m = np.tril(a)
    for k in range(p):
        x = m[k, k]
        if k > 0:
            x = x - _seq_sum(m[k, :k] * m[k, :k])
        if not x > 0.0:
            raise InputError(
                "the fixed-effects cross-product is not positive definite "
                "(collinear or constant moderators)",
                "mods",
            )
        m[k, k] = x = math.sqrt(x)
        for i in range(k + 1, p):
            r = m[i, k]
            for j in range(k):
                r = r + m[i, j] * (-m[k, j])
            m[i, k] = r / x
    return m


def _crossprod(a: FloatArray, b: FloatArray) -> FloatArray:
    """Compute ``a' b``, each entry summed down the rows from 0 (Eigen's scalar GEMM kernel)."""
    out = np.empty((a.shape[1], b.shape[1]))
    for j in range(a.shape[1]):
        for k in range(b.shape[1]):
            out[j, k] = 0.0 + _seq_sum(a[:, j] * b[:, k])
    return out


def _matvec(a: FloatArray, v: FloatArray) -> FloatArray:
    """Compute ``a v`` column by column from 0 (Eigen's gemv; R's reference BLAS dgemv)."""
    out = np.zeros(a.shape[0])
    for j in range(a.shape[1]):
        out = out + a[:, j] * v[j]
    return out


def _tmatvec(a: FloatArray, v: FloatArray) -> FloatArray:
    """Compute ``a' v``, each entry a left-to-right dot product from 0 (Eigen's gemv)."""
    return np.array([0.0 + _seq_sum(a[:, j] * v) for j in range(a.shape[1])])


class GlmerDevfun:
    """The state of lme4's ``glmer`` deviance function for the binomial-normal model.

    ``GlmerDevfun(xi, ni, X)`` is ``mkGlmerDevfun`` with ``nAGQ = 0`` (the initial PIRLS run at
    ``theta = 1`` from ``mustart``). Call :meth:`stage1` for glmer's first optimisation over
    ``theta``, then :meth:`start_stage2` (``updateGlmerDevfun``) and :meth:`stage2` over
    ``(theta, beta)``. Within a stage a value depends only on its argument (every call restarts
    PIRLS from ``lp0``; only a NaN first step would halve towards the previous call's ``u``);
    stage 2's values depend on the LAST stage-1 call, whose state sets stage 2's ``lp0``. glmer's
    ``optwrap`` re-evaluates the optimum after each optimiser, so stage 2 starts from there.

    Parameters
    ----------
    events, totals
        Events ``x_i`` and sizes ``n_i`` per series (integer counts, ``0 <= x_i <= n_i``).
    design
        Fixed-effects design ``X`` (one row per series), as passed to glmer.
    """

    def __init__(self, events: FloatArray, totals: FloatArray, design: FloatArray) -> None:
        x = np.asarray(events, dtype=float)
        n = np.asarray(totals, dtype=float)
        xm = np.asarray(design, dtype=float)
        if xm.ndim != 2 or xm.shape[0] != x.size or n.size != x.size or x.size == 0:
            raise InputError("one design row and one size per series are needed", "X")
        if np.any(n <= 0) or np.any(x < 0) or np.any(x > n) or np.any(x != np.rint(x)):
            raise InputError("events must be whole counts between 0 and the series size", "xi")
        self._x_mat = xm
        # binomial()$initialize for cbind(x, n - x): y = x / n, weights = n, mustart
        self._y = x / n
        if np.unique(self._y).size < 2:
            # lme4 checkResponse (check.response.not.const = "stop"): glmer refuses
            raise InputError("Response is constant: every series has the same proportion x/n", "xi")
        self._wt = n.copy()
        mustart = (n * self._y + 0.5) / (n + 1.0)
        self._offset = np.zeros(x.size)
        self._eta = self._offset + _log(mustart / (1.0 - mustart))  # stats logit_link
        self._mu = _logit_inv(self._eta)
        # glmFamily aic: m = n (any n > 1) else the weights; counts rounded (nearbyint)
        m = n if np.any(n > 1) else self._wt
        self._aic_y = np.rint(m * self._y)
        self._aic_m = np.rint(m)
        q, p = x.size, xm.shape[1]
        self.theta = THETA_START
        self._u0 = np.zeros(q)
        self._delu = np.zeros(q)
        self._beta0 = np.zeros(p)
        self._delb = np.zeros(p)
        self._ldiag = np.ones(q)
        self._ldl2 = 0.0
        self._rx = np.eye(p)
        self._nagq = 0
        self._gq: tuple[FloatArray, FloatArray, FloatArray] | None = None
        self._base_offset = self._offset.copy()
        self.step_halvings = 0  # PIRLS iterations that needed step halving (diagnostic)
        self._pwrss(u_only=False)  # mkGlmerDevfun: glmerLaplace from mustart (nAGQinit = 0)
        self.lp0 = self._lin_pred()

    # ---- response module (glmResp) -------------------------------------------------------
    def _update_mu(self, gamma: FloatArray) -> None:
        self._eta = self._offset + gamma
        self._mu = _logit_inv(self._eta)

    def _dev_resid(self) -> FloatArray:
        y, mu = self._y, self._mu
        out: FloatArray = 2.0 * self._wt * (_y_log_y(y, mu) + _y_log_y(1.0 - y, 1.0 - mu))
        return out

    def _aic(self) -> float:
        ans = 0.0
        for yy, m, wt, mu in zip(
            self._aic_y.tolist(),
            self._aic_m.tolist(),
            self._wt.tolist(),
            self._mu.tolist(),
            strict=True,
        ):
            ans += (0.0 if m <= 0.0 else wt / m) * log_dbinom(yy, m, mu)
        return -2.0 * ans

    # ---- predictor module (merPredD) -----------------------------------------------------
    def _u(self) -> FloatArray:
        out: FloatArray = self._u0 + 1.0 * self._delu
        return out

    def _sqr_l(self) -> float:
        u = self._u()
        return _seq_sum(u * u)

    def _lin_pred(self) -> FloatArray:
        beta = self._beta0 + 1.0 * self._delb
        b = 0.0 + self.theta * self._u()
        out: FloatArray = _matvec(self._x_mat, beta) + b
        return out

    def _wrk_iter(self, u_only: bool) -> float:
        """One PIRLS iteration (``internal_glmerWrkIter``); returns the penalised deviance."""
        mu, eta = self._mu, self._eta
        mu_eta = _logit_mu_eta(eta)
        variance = np.maximum(_EPS, mu * (1.0 - mu))
        sw = mu_eta * np.sqrt(self._wt / variance)  # sqrtWrkWt
        wtres = ((eta - self._offset) + (self._y - mu) / mu_eta) * sw  # wtWrkResp
        lamtut = 0.0 + self.theta * sw
        self._ldiag = np.sqrt(lamtut * lamtut + 1.0)
        ldiag = self._ldiag
        self._ldl2 = _seq_sum(np.concatenate(([0.0], _log(ldiag * ldiag))))
        v = sw[:, None] * self._x_mat
        rzx = (0.0 + lamtut[:, None] * v) / ldiag[:, None]
        vtv = _crossprod(v, v)
        self._rx = _cholesky(vtv + -1.0 * _crossprod(rzx, rzx))
        vtr = _tmatvec(v, wtres)
        utr = lamtut * wtres
        cu = (utr - self._u0) / ldiag
        if u_only:
            self._delb = np.zeros_like(self._delb)
            self._delu = cu / ldiag
        else:
            rhs = vtr - _tmatvec(rzx, cu)
            self._delb = _upper_solve(self._rx, _lower_solve(self._rx, rhs))
            self._delu = (cu + _matvec(rzx, -1.0 * self._delb)) / ldiag
        self._update_mu(self._lin_pred())
        return _seq_sum(self._dev_resid()) + self._sqr_l()

    def _pwrss(self, u_only: bool) -> None:
        """``pwrssUpdate``: PIRLS to relative change ``tolPwrss``, with step halving."""
        old = float(np.finfo(float).max)
        for _ in range(MAXIT):
            old_delu, old_delb = self._delu.copy(), self._delb.copy()
            pdev = self._wrk_iter(u_only)
            if abs(_ieee_ratio(old - pdev, pdev)) < TOL_PWRSS:
                return
            if math.isnan(pdev) or pdev > old:
                pdev = self._halve_steps(old, pdev, old_delu, old_delb, u_only)
            old = pdev
        raise InputError("PIRLS did not converge in 100 iterations (pwrssUpdate)", "xi")

    def _halve_steps(
        self, old: float, pdev: float, old_delu: FloatArray, old_delb: FloatArray, u_only: bool
    ) -> float:
        self.step_halvings += 1
        for _ in range(MAX_STEP_HALVINGS):
            if not (math.isnan(pdev) or pdev > old):
                break
            self._delu = (old_delu + self._delu) / 2.0
            if not u_only:
                self._delb = (old_delb + self._delb) / 2.0
            self._update_mu(self._lin_pred())
            pdev = _seq_sum(self._dev_resid()) + self._sqr_l()
        if math.isnan(pdev) or pdev - old > TOL_PWRSS:
            raise InputError("PIRLS step halvings failed to reduce the deviance", "xi")
        return pdev

    def _laplace(self) -> float:
        return self._ldl2 + self._sqr_l() + self._aic()

    def _agq(self) -> float:
        """``glmerAGQ``: adaptive Gauss-Hermite quadrature around the conditional modes."""
        assert self._gq is not None
        z, w, ldnorm = self._gq
        devc0 = self._u() ** 2 + self._dev_resid()
        sd = 1.0 / self._ldiag
        mult = np.zeros(devc0.size)
        for zk, wk, lk in zip(z.tolist(), w.tolist(), ldnorm.tolist(), strict=True):
            if zk == 0:
                mult = mult + wk
                continue
            self._u0 = zk * sd
            self._update_mu(self._lin_pred())
            devc = self._u() ** 2 + self._dev_resid()
            mult = mult + _exp(-0.5 * (devc - devc0) - lk) * wk / _SQRT_2PI
        self._u0 = np.zeros(devc0.size)
        self._update_mu(self._lin_pred())
        prod = float(np.cumprod(mult)[-1])
        return _seq_sum(devc0) + self._ldl2 - 2.0 * math.log(prod)

    # ---- the two deviance functions ------------------------------------------------------
    def stage1(self, theta: float) -> float:
        """Return glmer's ``nAGQ = 0`` deviance at ``theta`` (PIRLS over ``u`` and ``beta``)."""
        if self._nagq != 0:
            raise InputError("stage 1 is over once stage 2 has started", "theta")
        self._update_mu(self.lp0)
        self.theta = float(theta)
        self._pwrss(u_only=False)
        return self._laplace()

    def start_stage2(self, nagq: int) -> None:
        """``updateGlmerDevfun``: keep the state, recompute ``lp0``, set the quadrature rule."""
        if self._nagq != 0:
            raise InputError("stage 2 has already started", "nAGQ")
        self._gq = gh_rule(nagq)
        self._nagq = nagq
        self.lp0 = self._lin_pred()
        self._base_offset = self._offset.copy()

    def stage2(self, pars: FloatArray) -> float:
        """Return glmer's ``nAGQ >= 1`` deviance at ``pars = (theta, beta...)`` (PIRLS on u)."""
        if self._nagq == 0:
            raise InputError("call start_stage2 before stage 2 evaluations", "nAGQ")
        par = np.asarray(pars, dtype=float)
        self._offset = self._base_offset.copy()
        self._update_mu(self.lp0)
        self.theta = float(par[0])
        self._offset = self._base_offset + _matvec(self._x_mat, par[1:])
        self._pwrss(u_only=True)
        return self._laplace() if self._nagq == 1 else self._agq()

    # ---- accessors -----------------------------------------------------------------------
    @property
    def delb(self) -> FloatArray:
        """``pp$delb``: beta of the last stage-1 evaluation (glmer's stage-2 start)."""
        return self._delb.copy()

    @property
    def delu(self) -> FloatArray:
        """``pp$delu``: the spherical random effects ``u`` of the last evaluation."""
        return self._delu.copy()

    @property
    def ldl2(self) -> float:
        """``pp$ldL2()``: log det of ``L L'`` from the last PIRLS factorisation."""
        return self._ldl2

    def unsc(self) -> FloatArray:
        """``pp$unsc()``: ``RX^-1 RX^-T`` at the current state (lme4's fallback ``vcov``)."""
        inv = self._rx_inverse()
        out: FloatArray = inv @ inv.T
        return out

    def unsc_diag(self) -> FloatArray:
        """``diag(pp$unsc())``: diagonal of ``RX^-1 RX^-T`` (unscaled covariance of beta)."""
        inv = self._rx_inverse()
        return np.array([0.0 + _seq_sum(inv[j, :] * inv[j, :]) for j in range(inv.shape[0])])

    def _rx_inverse(self) -> FloatArray:
        rx = self._rx
        p = rx.shape[0]
        inv = np.zeros((p, p))
        recip = [1.0 / rx[i, i] for i in range(p)]
        for j in range(p):
            col = np.zeros(p)
            col[j] = 1.0
            for i in range(p - 1, -1, -1):
                b = 0.0
                for s in range(i + 1, p):
                    b += rx[s, i] * col[s]
                col[i] = (col[i] - b) * recip[i]
            inv[:, j] = col
        return inv
