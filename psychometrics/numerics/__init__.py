"""Low-level numerics shared by reliability, efa, sem and multilevel (no dependency on them).

``bvn``          bivariate normal rectangle probabilities (Genz's TVPACK, as mnormt)
``brent``        R's ``optimize`` (Brent's fmin), vectorised over problems
``polychoric``   polychoric correlations (``psych::polychoric``) and ``polycor::polychor``
``tetrachoric``  tetrachoric correlations (``psych::tetrachoric``)
``matrix``       pairwise covariances, SMC, ``psych::cor.smooth`` and friends
``itemdata``     checked item matrices for the reliability and correlation functions
``reml``         the REML/ML core of the mixed models, ICC and multilevel reliability

The public functions are re-exported by :mod:`psychometrics.reliability`
(``polychoric``, ``tetrachoric``, ``polychoric_pair``); these modules import only numpy,
scipy, pandas, :mod:`psychometrics.exceptions` and :mod:`psychometrics.results`.
"""
