"""HM Inspectorate of Probation's method: inspection schemes and ratings, case sampling (HMIP's
own sampler), the long list, the evidence pack.
"""
