"""The Streamlit side: page helpers, sign-in, charts, the server wrapper. The only package that
imports streamlit.
"""
